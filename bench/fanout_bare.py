"""The baseline for bench/fanout.py: a bare Starlette WebSocket loop.

It speaks just enough graphql-transport-ws for the same client (ack the init, remember the
subscription id) and, on POST /fire, serialises each event once and sends that same string to
every connected client in turn: no GraphQL, no database, no per-client work. Run by the
benchmark as `uvicorn bench.fanout_bare:create --factory`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

# the shape of one Promessa inventory event as the benchmark subscribes to it
EVENT = {"sequence": "0", "at": "", "sku": "BN-HOT", "onHand": 0, "available": 0,
         "location": {"code": "WH-MIL"}}


def create() -> Starlette:
    clients: dict[WebSocket, str] = {}
    sequence = 0

    async def socket(ws: WebSocket) -> None:
        await ws.accept(subprotocol="graphql-transport-ws")
        try:
            while True:
                message = json.loads(await ws.receive_text())
                if message.get("type") == "connection_init":
                    await ws.send_text('{"type":"connection_ack"}')
                elif message.get("type") == "subscribe":
                    clients[ws] = message["id"]
                elif message.get("type") == "ping":
                    await ws.send_text('{"type":"pong"}')
        except WebSocketDisconnect:
            pass
        finally:
            clients.pop(ws, None)

    async def fire(request: Request) -> JSONResponse:
        nonlocal sequence
        n = int(request.query_params.get("n", "1"))
        for _ in range(n):
            sequence += 1
            event = {**EVENT, "sequence": str(sequence), "onHand": sequence,
                     "at": datetime.now(UTC).isoformat()}
            payloads: dict[str, str] = {}  # one serialisation per subscription id in use
            for ws, sub in list(clients.items()):
                text = payloads.get(sub)
                if text is None:
                    text = payloads[sub] = json.dumps(
                        {"id": sub, "type": "next",
                         "payload": {"data": {"inventoryEvents": event}}},
                        separators=(",", ":"))
                try:
                    await ws.send_text(text)
                except (WebSocketDisconnect, RuntimeError):
                    clients.pop(ws, None)
        return JSONResponse({"sent": n, "clients": len(clients)})

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[WebSocketRoute("/graphql", socket),
                             Route("/fire", fire, methods=["POST"]),
                             Route("/healthz", healthz)])
