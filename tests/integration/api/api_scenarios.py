"""Client side of tests/integration/api: each scenario talks to the in-process test server
(api_server_test.cpp) like a real plugin would, and exits 0 when everything held.

    /usr/bin/python3 api_scenarios.py SCENARIO PORT TOKEN
"""
import asyncio
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "support"))
import websockets  # noqa: E402
from rapport_ws import call, close_all, close_code, connect, hello, next_notification, reply_to, request  # noqa: E402


def check(condition, message):
    if not condition:
        raise AssertionError(message)


async def expect_policy_close(port, first_frame, what):
    ws = await connect(port)
    await ws.send(first_frame)
    code = await close_code(ws)
    check(code == 1008, f"{what}: expected close 1008, got {code}")
    check(ws.close_reason == "hello with a valid token required", f"{what}: reason {ws.close_reason!r}")


async def auth_refused(port, token):
    req = lambda method, params=None, id=1: json.dumps(request(method, params, id))  # noqa: E731
    await expect_policy_close(port, req("status"), "no hello")
    await expect_policy_close(port, req("hello", {"token": "0" * 64, "client": "x", "version": "1"}), "wrong token")
    await expect_policy_close(port, req("hello", {"token": token[:-1] + ("0" if token[-1] != "0" else "1")}),
                              "token differing in the last char")
    await expect_policy_close(port, req("hello", {"token": token[:32]}), "token prefix")
    await expect_policy_close(port, req("hello", {"token": token + "0"}), "token plus one char")
    await expect_policy_close(port, req("hello", {"client": "x"}), "missing token")
    await expect_policy_close(port, req("hello", {"token": 12}), "token not a string")
    await expect_policy_close(port, req("hello", [token]), "params as array")
    await expect_policy_close(port, req("hello"), "no params")
    await expect_policy_close(port, "{not json", "malformed first frame")
    await expect_policy_close(port, json.dumps({"jsonrpc": "2.0", "method": "hello", "params": {"token": token}}),
                              "hello as a notification")
    await expect_policy_close(port, json.dumps([request("hello", {"token": token})]), "hello in a batch")
    await expect_policy_close(port, req("echo", {"token": token}), "another method with the token")
    # Binary first frame: refused as data (1003) before anything else.
    ws = await connect(port)
    await ws.send(json.dumps(request("hello", {"token": token})).encode())
    code = await close_code(ws)
    check(code == 1003, f"binary hello: close {code}")


async def basics(port, token):
    ws = await connect(port)
    result = await hello(ws, token, client="scenario", version="9.9")
    check(result.get("server") == "rapportd" and result.get("version") == "test-version", f"hello: {result}")
    check(result.get("protocol") == 1 and result.get("user") == {"name": "Test User"}, f"hello: {result}")

    r = await call(ws, "echo", {"a": [1, 2, {"b": "é"}]})
    check(r == {"jsonrpc": "2.0", "id": r["id"], "result": {"a": [1, 2, {"b": "é"}]}}, f"echo: {r}")
    r = await call(ws, "whoami")
    check(r["result"]["client"] == "scenario" and r["result"]["version"] == "9.9", f"whoami: {r}")
    check(r["result"]["origin"] == "" and r["result"]["subscribed"] is False, f"whoami: {r}")

    async def raw(text):
        await ws.send(text)
        return json.loads(await asyncio.wait_for(ws.recv(), 10))

    for text in ["{", "nul", '{"jsonrpc":"2.0","id":1,', "\u00e9"]:
        r = await raw(text)
        check(r["error"]["code"] == -32700 and r["id"] is None, f"parse error for {text!r}: {r}")
    for text, id in [('[{"jsonrpc":"2.0","id":5,"method":"echo"}]', None), ("[]", None), ("3", None),
                     ('{"jsonrpc":"1.0","id":6,"method":"echo"}', 6), ('{"jsonrpc":"2.0","id":7}', 7),
                     ('{"jsonrpc":"2.0","id":8,"method":"echo","params":3}', 8),
                     ('{"jsonrpc":"2.0","id":{},"method":"echo"}', None)]:
        r = await raw(text)
        check(r["error"]["code"] == -32600 and r["id"] == id, f"invalid request {text!r}: {r}")
    deep = '{"jsonrpc":"2.0","id":9,"method":"echo","params":' + "[" * 5000 + "]" * 5000 + "}"
    r = await raw(deep)
    check(r["error"]["code"] == -32600 and "nesting" in r["error"]["message"], f"deep nesting: {r}")

    # A notification is neither run nor answered: the next reply is the next request's.
    await ws.send(json.dumps({"jsonrpc": "2.0", "method": "echo", "params": {}}))
    r = await call(ws, "echo", {"after": "notification"})
    check(r["result"]["after"] == "notification", f"after notification: {r}")

    r = await call(ws, "no.such.method")
    check(r["error"]["code"] == -32601, f"unknown method: {r}")
    r = await call(ws, "fail")
    check(r["error"] == {"code": -32000, "message": "refused on purpose", "data": {"why": "test"}}, f"fail: {r}")
    r = await call(ws, "crash")
    check(r["error"] == {"code": -32603, "message": "internal error"}, f"crash: {r}")
    r = await call(ws, "hello", {"token": token})
    check(r["error"]["code"] == -32600, f"second hello: {r}")
    r = await call(ws, "echo", {"still": "alive"})
    check(r["result"]["still"] == "alive", f"alive: {r}")
    # The largest frame that fits (64 KiB) is served.
    big = {"s": "x" * (65536 - 200)}
    r = await call(ws, "echo", big)
    check(r["result"]["s"] == big["s"], "64 KiB frame")
    await ws.close()
    check(ws.close_code == 1000, f"normal close: {ws.close_code}")


async def accepted_origins(port, token):
    for origin in [None, "moz-extension://abc", "moz-extension://6f9c1e2a-0b1c-4d2e-9f3a-1234567890ab"]:
        ws = await connect(port, origin=origin)
        await hello(ws, token)
        r = await call(ws, "whoami", {})
        check(r["result"]["origin"] == (origin or ""), f"origin {origin}: {r}")
        await ws.close()


async def binary_frame(port, token):
    ws = await connect(port)
    await hello(ws, token)
    await ws.send(b'{"jsonrpc":"2.0","id":1,"method":"echo"}')
    code = await close_code(ws)
    check(code == 1003 and ws.close_reason == "text frames only", f"binary: {code} {ws.close_reason}")


async def big_frame(port, token):
    steady = await connect(port)
    await hello(steady, token)
    big = await connect(port, write_limit=1 << 24)
    await hello(big, token)

    async def keep_serving():
        n = 0
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            r = await call(steady, "echo", {"n": n})
            check(r["result"]["n"] == n, f"steady client: {r}")
            n += 1
        return n

    served = asyncio.ensure_future(keep_serving())
    try:
        await big.send("[" + "0," * (5 * 1024 * 1024) + "0]")  # 10 MB
    except websockets.ConnectionClosed:
        pass
    code = await close_code(big)
    check(code == 1009, f"10 MB frame: close {code}")
    n = await served
    check(n > 10, f"steady client served only {n} requests meanwhile")
    # Just over the limit is refused the same way.
    over = await connect(port)
    await hello(over, token)
    await over.send(json.dumps(request("echo", {"s": "x" * 65536})))
    code = await close_code(over)
    check(code == 1009, f"64 KiB + 1: close {code}")
    r = await call(steady, "echo", {"after": "big"})
    check(r["result"]["after"] == "big", "steady client after the big frames")


async def burst(port, token):
    ws = await connect(port)
    await hello(ws, token)
    ids = list(range(1000, 2000))
    started = time.monotonic()
    for i in ids:
        await ws.send(json.dumps(request("echo", {"i": i}, id=i)))
    got = []
    for _ in ids:
        r = json.loads(await asyncio.wait_for(ws.recv(), 10))
        check(r["result"]["i"] == r["id"], f"burst reply mismatch: {r}")
        got.append(r["id"])
    check(got == ids, "burst replies out of order or missing")
    print(f"burst: 1000 requests answered in {time.monotonic() - started:.3f} s")


async def subscribe_replay(port, token):
    control = await connect(port)
    await hello(control, token)
    before = (await call(control, "test.broadcast", {"count": 5}))["result"]["last"]
    ws = await connect(port)
    await hello(ws, token)
    r = await call(ws, "subscribe", {"after": before - 2})
    check(r["result"] == {}, f"subscribe: {r}")
    replayed = [(await next_notification(ws))["id"] for _ in range(2)]
    check(replayed == [before - 1, before], f"replay: {replayed}")
    await call(control, "test.broadcast", {"count": 3})
    live = [(await next_notification(ws))["id"] for _ in range(3)]
    check(live == [before + 1, before + 2, before + 3], f"live: {live}")
    r = await call(ws, "subscribe", {})
    check(r["error"]["code"] == -32600, f"second subscribe: {r}")
    r = await call(ws, "echo", {})
    check("result" in r, "alive after errors")
    # A subscribe refused by the handler leaves the session unsubscribed and usable.
    other = await connect(port)
    await hello(other, token)
    r = await call(other, "subscribe", {"after": "not a number"})
    check(r["error"]["code"] == -32602, f"bad after: {r}")
    r = await call(other, "subscribe", {"after": 0})
    check(r["result"] == {}, f"subscribe after a refusal: {r}")
    # Unsubscribed sessions get nothing.
    quiet = await connect(port)
    await hello(quiet, token)
    await call(control, "test.broadcast", {"count": 1})
    r = await call(quiet, "echo", {})
    check("result" in r and quiet.notifications == [], f"unsubscribed got {quiet.notifications}")


async def many_subscribers(port, token):
    """500 clients subscribe while notifications keep coming; each must get every one of them,
    once, in order (replay, then live)."""
    clients = 500
    control = await connect(port)
    await hello(control, token)
    await call(control, "test.broadcast", {"count": 20})
    # Notifications keep coming until every client has subscribed, so subscriptions race them.
    ticker = await call(control, "test.ticker", {"count": 1000000, "interval_ms": 5})
    check("result" in ticker, f"ticker: {ticker}")
    started = time.monotonic()

    async def subscriber(index):
        ws = await connect(port, open_timeout=30)
        await hello(ws, token)
        await asyncio.sleep((index % 50) * 0.01)
        r = await call(ws, "subscribe", {"after": 0}, timeout=30)
        check(r.get("result") == {}, f"subscribe {index}: {r}")
        return ws

    sem = asyncio.Semaphore(100)

    async def bounded(i):
        async with sem:
            return await subscriber(i)

    socks = await asyncio.gather(*[bounded(i) for i in range(clients)])
    await asyncio.sleep(0.1)
    last = (await call(control, "test.stop_ticker"))["result"]
    print(f"many_subscribers: {clients} subscribed in {time.monotonic() - started:.2f} s while notifications "
          f"21..{last} were broadcast", flush=True)
    await call(control, "test.broadcast", {"count": 5})
    last += 5

    async def drain(ws):
        ids = []
        while len(ids) < last:
            ids.append((await next_notification(ws, timeout=20))["id"])
        # Nothing more may follow (no duplicates).
        r = await call(ws, "echo", {})
        check("result" in r and ws.notifications == [], f"extra notifications {ws.notifications}")
        return ids

    results = await asyncio.gather(*[drain(ws) for ws in socks])
    expected = list(range(1, last + 1))
    for i, ids in enumerate(results):
        check(ids == expected, f"client {i}: got {len(ids)} ids, first mismatch at "
              f"{next((k for k, (a, b) in enumerate(zip(ids, expected)) if a != b), None)}")
    print(f"many_subscribers: {clients} clients x {last} notifications, all exactly once and in order")
    await asyncio.gather(*[ws.close() for ws in socks])


async def slow_reader(port, token):
    """A subscriber that stops reading is dropped; the others keep getting notifications."""
    count, size = 2000, 4000

    async def subscribed_clients(n):
        out = []
        for _ in range(n):
            ws = await connect(port)
            await hello(ws, token)
            await call(ws, "subscribe", {"after": (await call(ws, "test.last_id"))["result"]})
            out.append(ws)
        return out

    async def timed_round(good, control):
        started = time.monotonic()
        # Paced like real mail traffic, yet fast enough to fill a stalled socket within the round.
        await control.send(json.dumps(request("test.ticker", {"count": count, "per_tick": 5, "bytes": size,
                                                              "interval_ms": 5})))

        async def drain(ws):
            for _ in range(count):
                await next_notification(ws, timeout=20)
        await asyncio.gather(*[drain(ws) for ws in good])
        elapsed = time.monotonic() - started
        # The control connection is itself one of the good ones; its reply came first or interleaved.
        return elapsed

    control = await connect(port)
    await hello(control, token)

    good = await subscribed_clients(5)
    baseline = await timed_round(good, control)
    await asyncio.sleep(0.1)
    control.notifications.clear()

    # The stalled client: a tiny receive buffer, a one-message queue, and then no reading at all.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    stalled = await websockets.connect(f"ws://127.0.0.1:{port}/", sock=sock, max_queue=1, ping_interval=None,
                                       compression=None, read_limit=4096)
    stalled.notifications = []
    await hello(stalled, token)
    await call(stalled, "subscribe", {"after": (await call(stalled, "test.last_id"))["result"]})

    with_stalled = await timed_round(good, control)
    print(f"slow_reader: {len(good)} clients x {count} notifications of {size} B: "
          f"{baseline:.3f} s alone, {with_stalled:.3f} s next to a stalled client")
    check(with_stalled < max(3 * baseline, baseline + 2.0),
          f"a stalled client slowed the others: {baseline:.3f} s -> {with_stalled:.3f} s")

    # The stalled one was disconnected: draining it ends in a closed connection, short of count.
    received = 0
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(stalled.recv(), 10))
            if frame.get("method") == "notify":
                received += 1
    except websockets.ConnectionClosed:
        pass
    except asyncio.TimeoutError:
        raise AssertionError(f"stalled client still connected after {received} notifications")
    check(received < count, f"stalled client got all {received} notifications")
    print(f"slow_reader: stalled client received {received} of {count} before being dropped")


async def hello_timeout(port, token):
    ws = await connect(port)
    started = time.monotonic()
    code = await close_code(ws)
    elapsed = time.monotonic() - started
    check(code == 1008 and ws.close_reason == "hello timeout", f"hello timeout: {code} {ws.close_reason}")
    check(elapsed < 5, f"hello timeout took {elapsed:.1f} s")


SCENARIOS = {f.__name__: f for f in [auth_refused, basics, accepted_origins, binary_frame, big_frame, burst,
                                     subscribe_replay, many_subscribers, slow_reader, hello_timeout]}

if __name__ == "__main__":
    name, port, token = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    async def main():
        try:
            await SCENARIOS[name](port, token)
        finally:
            await close_all()
    try:
        asyncio.run(main())
    except Exception as e:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        print(f"FAIL {name}: {e!r}")
        sys.exit(1)
    print(f"OK {name}")
