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
    """The same for an HTTP `Host` header: `name`, `name:port`, `[v6]` or `[v6]:port`, nothing
    else (`[::1]evil.com`, `localhost:80:x`, `localhost:` and a port that is not digits are refused)."""
    host = host_header.strip()
    if host.startswith("["):  # [v6] or [v6]:port
        inside, sep, rest = host[1:].partition("]")
        if not sep or not (rest == "" or rest.startswith(":") and _digits(rest[1:])):
            return False
        return _v6_loopback(inside)
    name, sep, port = host.partition(":")
    if sep and not _digits(port):
        return False
    return bool(name) and is_loopback(name)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _v6_loopback(text: str) -> bool:
    try:
        return ipaddress.IPv6Address(text).is_loopback
    except ValueError:
        return False


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
