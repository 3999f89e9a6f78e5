"""A stand-in for a future rapportd that speaks protocol 2 (the real one speaks only 1), for the
client's old_daemon state. Answers hello, refuses everything else; prints "ready" when listening.

    python3 other_protocol_daemon.py PORT
"""
import asyncio
import json
import sys

import websockets


async def serve(ws, path=None):
    async for frame in ws:
        m = json.loads(frame)
        if m.get("method") == "hello":
            result = {"server": "rapportd", "version": "9.0.0", "protocol": 2, "user": {"name": "X", "address": "x@vendor.example"}}
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": result}))
        else:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": m.get("id"), "error": {"code": -32601, "message": "unknown"}}))


async def main():
    async with websockets.serve(serve, "127.0.0.1", int(sys.argv[1])):
        print("ready", flush=True)
        await asyncio.Future()


asyncio.run(main())
