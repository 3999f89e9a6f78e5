"""A small asyncio client of rapportd's WebSocket API for tests (Debian's python3-websockets 10.4).

    ws = await connect(port, origin=None)
    result = await hello(ws, token)
    reply = await call(ws, "status")            # the whole reply object (result or error)
    await ws.send(raw_text)                     # anything, for framing tests
Notifications that arrive while call() waits for its reply are kept in ws.notifications.
"""
import asyncio
import itertools
import json

import websockets

_ids = itertools.count(1)
_connections = []


async def connect(port, origin=None, **kwargs):
    kwargs.setdefault("ping_interval", None)
    kwargs.setdefault("compression", None)
    kwargs.setdefault("open_timeout", 10)
    kwargs.setdefault("max_size", 16 * 1024 * 1024)
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/", origin=origin, **kwargs)
    ws.notifications = []
    _connections.append(ws)
    return ws


async def close_all(timeout=5):
    """Closes every connection connect() opened (an unclosed one makes asyncio.run linger)."""
    open_ones = [ws for ws in _connections if not ws.closed]
    _connections.clear()
    if open_ones:
        await asyncio.wait([asyncio.ensure_future(ws.close()) for ws in open_ones], timeout=timeout)


def request(method, params=None, id=None):
    message = {"jsonrpc": "2.0", "id": next(_ids) if id is None else id, "method": method}
    if params is not None:
        message["params"] = params
    return message


async def call(ws, method, params=None, timeout=10):
    message = request(method, params)
    await ws.send(json.dumps(message))
    return await reply_to(ws, message["id"], timeout)


async def reply_to(ws, id, timeout=10):
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame.get("method") == "notify":
            ws.notifications.append(frame["params"])
            continue
        if frame.get("id") != id:
            raise AssertionError(f"expected the reply to {id}, got {frame}")
        return frame


async def hello(ws, token, client="test", version="0"):
    reply = await call(ws, "hello", {"token": token, "client": client, "version": version})
    if "result" not in reply:
        raise AssertionError(f"hello failed: {reply}")
    return reply["result"]


async def next_notification(ws, timeout=10):
    if ws.notifications:
        return ws.notifications.pop(0)
    frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    if frame.get("method") != "notify":
        raise AssertionError(f"expected a notification, got {frame}")
    return frame["params"]


async def close_code(ws, timeout=10):
    """Waits for the server to end the connection and returns its close code (1006: no frame)."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed:
        pass
    return ws.close_code
