"""The app's server guard: refuse HTTP and websocket requests whose Host header is not an address the server was
started for (DNS rebinding: a web page on evil.example, mapped to 127.0.0.1, would otherwise reach the app; the
browser sends a matching Origin for such a page, so Streamlit's Origin check does not stop it).

app.py, when `streamlit run` imports it as an ASGI app, builds `st.App(app.py, middleware=[host_middleware()])`;
the middleware runs before Streamlit's own for every request (pages, static files, the websocket).
Allowed: localhost, 127.0.0.1, [::1], the address in server.address (and, for 0.0.0.0 / ::, this machine's names
and any IP literal), each with any port, plus the names in $EXPLORER_ALLOWED_HOSTS (comma-separated, e.g. the
name of a reverse proxy).
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

ALLOWED_ENV = "EXPLORER_ALLOWED_HOSTS"
LOCAL_NAMES = {"localhost", "127.0.0.1", "::1"}
Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]


def host_name(header: str) -> str:
    """The name part of a Host header, lower case: "[::1]:8501" -> "::1", "Localhost:8501" -> "localhost"."""
    text = header.strip().lower()
    if text.startswith("["):
        return text[1:text.find("]")] if "]" in text else text
    return text.rsplit(":", 1)[0] if text.count(":") == 1 else text


def allowed_hosts(address: str | None) -> tuple[set[str], bool]:
    """(names a Host may carry, whether any IP literal is allowed) for a server started on `address`."""
    names = set(LOCAL_NAMES)
    names |= {n.strip().lower() for n in os.environ.get(ALLOWED_ENV, "").split(",") if n.strip()}
    addr = (address or "localhost").strip().strip("[]").lower()
    if addr in ("0.0.0.0", "::", ""):  # every interface: this machine's names and its addresses
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
        return names, True
    names.add(addr)
    return names, False


def host_allowed(header: str | None, address: str | None) -> bool:
    """True when a request's Host header names the server's own address (see allowed_hosts)."""
    if not header:
        return False
    name = host_name(header)
    names, any_ip = allowed_hosts(address)
    if name in names:
        return True
    if any_ip:
        try:
            ipaddress.ip_address(name)
            return True
        except ValueError:
            return False
    return False


class HostCheck:
    """Pure ASGI middleware: a request whose Host is not allowed gets 403 (HTTP) or a refused handshake
    (websocket) and never reaches Streamlit."""

    def __init__(self, app: ASGIApp, address: str | None = None) -> None:
        self.app, self.address = app, address

    def _address(self) -> str | None:
        if self.address is not None:
            return self.address
        from streamlit import config

        return config.get_option("server.address")

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope.get("type") in ("http", "websocket"):
            host = next((v.decode("latin-1") for k, v in scope.get("headers") or [] if k == b"host"), None)
            if not host_allowed(host, self._address()):
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = b"refused: this server answers only for the address it was started on\n"
                await send({"type": "http.response.start", "status": 403,
                            "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def host_middleware() -> Any:
    """The Starlette Middleware entry of HostCheck for st.App(middleware=[...])."""
    from starlette.middleware import Middleware

    return Middleware(HostCheck)
