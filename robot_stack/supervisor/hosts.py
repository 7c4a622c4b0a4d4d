"""DNS-rebinding guard: a supervisor bound to loopback answers only requests addressed to a
loopback name (`Host: 127.0.0.1:P`, `localhost:P`, `[::1]:P`), with a 400 JSON error otherwise.

Without it, a web page in the operator's browser could rebind its own domain to 127.0.0.1 and
read the open `GET` endpoints. (`POST`s need the bearer token, which such a page cannot get.)
An SSH tunnel (`ssh -L 8765:127.0.0.1:8765 robot-pc`, then `localhost:8765`) still works. A
supervisor bound to another address (explicitly exposed, and warned about) accepts any Host.
"""
from __future__ import annotations

import ipaddress
import json

from starlette.types import ASGIApp, Receive, Scope, Send


def is_loopback(host: str) -> bool:
    """A bind address or host name that stays on this machine (127.0.0.0/8, ::1, localhost)."""
    host = host.strip().lower()
    if host in ("localhost", "ip6-localhost") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_name(host_header: str) -> bool:
    """The same for an HTTP `Host` header (with an optional port)."""
    host = host_header.strip()
    if host.startswith("["):  # [v6]:port
        host = host[1:].split("]", 1)[0]
    elif host.count(":") == 1:  # name:port or v4:port
        host = host.split(":", 1)[0]
    return is_loopback(host)


class LoopbackHostMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), "")
            if not is_loopback_name(host):
                body = json.dumps({"detail": f"host {host!r} not allowed: this supervisor is bound to "
                                             "loopback and answers only to 127.0.0.1 / localhost"}).encode()
                await send({"type": "http.response.start", "status": 400,
                            "headers": [(b"content-type", b"application/json"),
                                        (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
