"""ASGI middleware refusing request bodies larger than `max_body_bytes` with a 413 JSON error.

A declared `Content-Length` over the limit is refused before any byte is read; any other body
(chunked, or a wrong length) is read by the middleware before the app runs, at most `limit`
bytes, and refused as soon as it passes the limit; the app then gets it replayed. An empty
body is never refused, whatever the limit (a browser's bodiless POST, the e-stop button's).
"""
from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int):
        self.app = app
        self.max_body_bytes = max(0, int(max_body_bytes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        # Read the whole body (at most `limit` bytes) before the app runs: whatever an endpoint
        # does with it, or an answer that starts before reading it (a file), it cannot be too large.
        body: list[Message] = []
        seen, more = 0, True
        while more:
            msg = await receive()
            if msg["type"] != "http.request":
                body.append(msg)  # the client left: the app sees that
                break
            seen += len(msg.get("body", b""))
            if seen > limit:
                await _refuse(send, limit)
                return
            body.append(msg)
            more = msg.get("more_body", False)

        async def replay() -> Message:
            return body.pop(0) if body else await receive()

        await self.app(scope, replay, send)


def _content_length(scope: Scope) -> int | None:
    for k, v in scope.get("headers", []):
        if k == b"content-length":
            try:
                return int(v)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": _detail(limit)}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


def _detail(limit: int) -> str:
    return f"request body too large (limit {limit} bytes)"
