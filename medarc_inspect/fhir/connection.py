"""Connection limits as Jetty (HAPI's server) applies them by default, on top of uvicorn's httptools protocol.

- idle timeout: a connection with no request in progress is closed after `idle_timeout` seconds (also
  before its first request, which uvicorn alone never times out);
- read timeout: a request's line, headers and body must all arrive within `read_timeout` seconds of its
  first byte (slow headers and slow bodies are cut off);
- header size: more than `max_header_bytes` of headers is answered 431 and the connection closed (a
  request line longer than `max_url_bytes` is 414).

The application's own work is not timed here (each request has its time budget, see limits.py).
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from medarc_inspect.fhir.errors import operation_outcome

IDLE_TIMEOUT_S = 30.0
READ_TIMEOUT_S = 30.0
MAX_HEADER_BYTES = 8 << 10
MAX_URL_BYTES = 20 << 10  # the 16 KiB query limit plus room for the path


class _TooLarge(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with idle/read timeouts and header limits (class attributes)."""

    idle_timeout = IDLE_TIMEOUT_S
    read_timeout = READ_TIMEOUT_S
    max_header_bytes = MAX_HEADER_BYTES
    max_url_bytes = MAX_URL_BYTES

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._guard: asyncio.TimerHandle | None = None
        self._reading = False
        self._header_bytes = 0
        self._url_bytes = 0
        self._refusal: _TooLarge | None = None
        super().connection_made(transport)
        self._arm(self.idle_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, delay: float) -> None:
        self._disarm()
        self._guard = self.loop.call_later(delay, self._expire)

    def _disarm(self) -> None:
        if self._guard is not None:
            self._guard.cancel()
            self._guard = None

    def _expire(self) -> None:
        """Idle, or a request still arriving after the read timeout: close (a running request is left alone)."""
        self._guard = None
        busy = not self._reading and self.cycle is not None and not self.cycle.response_complete
        if busy:
            self._arm(self.idle_timeout)
        elif not self.transport.is_closing():
            self.transport.close()

    # ---- parser callbacks ---------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading = True
        self._header_bytes = self._url_bytes = 0
        self._arm(self.read_timeout)

    def on_url(self, url: bytes) -> None:
        self._url_bytes += len(url)
        if self._url_bytes > self.max_url_bytes:
            self._refusal = _TooLarge(414, f"Request line longer than {self.max_url_bytes} bytes")
            raise self._refusal
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value) + 4
        if self._header_bytes > self.max_header_bytes:
            self._refusal = _TooLarge(431, f"Request headers larger than {self.max_header_bytes} bytes")
            raise self._refusal
        super().on_header(name, value)

    def on_message_complete(self) -> None:
        self._reading = False
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self._reading:
            self._arm(self.idle_timeout)

    def send_400_response(self, msg: str) -> None:
        """The parser stopped: answer our own refusal (414/431, an OperationOutcome) or uvicorn's 400."""
        refusal, self._refusal = self._refusal, None
        if refusal is None:
            super().send_400_response(msg)
            return
        body = json.dumps(operation_outcome(refusal.message, "too-long"), indent=2).encode()
        reason = {414: b"URI Too Long", 431: b"Request Header Fields Too Large"}[refusal.status]
        head = b"HTTP/1.1 %d %s\r\n" % (refusal.status, reason)
        head += b"content-type: application/fhir+json;charset=UTF-8\r\n"
        head += b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)
        self.transport.write(head + body)
        self.transport.close()


def protocol_class(idle_timeout: float, read_timeout: float, max_header_bytes: int) -> type[GuardedHttpProtocol]:
    """A protocol class with these limits (uvicorn instantiates it once per connection)."""
    return type(
        "FhirHttpProtocol",
        (GuardedHttpProtocol,),
        {"idle_timeout": idle_timeout, "read_timeout": read_timeout, "max_header_bytes": max_header_bytes},
    )
