"""HTTP front end: an ASGI app on uvicorn, bound to 127.0.0.1, routing /<session>/fhir/... to sessions.

Start and stop it from async code (`await server.start()` / `await server.stop()`, or `async with`), or
from sync code with `with server.running():` (a background thread with its own event loop).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import socket
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor

import uvicorn

from medarc_inspect.fhir.connection import IDLE_TIMEOUT_S, MAX_HEADER_BYTES, READ_TIMEOUT_S, protocol_class
from medarc_inspect.fhir.errors import FHIR_JSON, outcome_bytes
from medarc_inspect.fhir.limits import INLINE_ROWS, REQUEST_BUDGET_S, Deadline
from medarc_inspect.fhir.session import FhirResponse, FhirSession, SessionRegistry
from medarc_inspect.fhir.store import FhirStore

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
INLINE_BODY_BYTES = 64 << 10  # POST bodies larger than this are validated in the worker pool
WORKER_THREADS = 2
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?")
MAX_QUERY_BYTES = 16_384
DEFAULT_SESSION = "default"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


class _InProcessServer(uvicorn.Server):
    """uvicorn without its signal handlers: an embedded server must not take over the host's Ctrl-C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class FhirServer:
    """One HTTP server over one base store; every session gets its own base URL ending in '/'."""

    def __init__(
        self,
        store: FhirStore,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body_bytes: int = MAX_BODY_BYTES,
        pretty: bool = False,
        request_budget_s: float = REQUEST_BUDGET_S,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
        max_header_bytes: int = MAX_HEADER_BYTES,
    ) -> None:
        """`request_budget_s`: wall time after which a request ends with 400 too-costly. Connections are
        closed after `idle_timeout_s` without a request, or when a request has not fully arrived
        `read_timeout_s` after its first byte; headers over `max_header_bytes` are answered 431.

        `pretty=True` indents responses by default, like the MedAgentBench HAPI image (costs about 45 µs
        per resource the first time it is shown); `_pretty=true|false` overrides it per request."""
        if host not in LOOPBACK:
            raise ValueError(f"the FHIR server binds to loopback only (127.0.0.1), not {host!r}")
        self.store = store
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = port
        self.max_body_bytes = max_body_bytes
        self.sessions = SessionRegistry(store, self.base_url_for_id, pretty=pretty)
        self.request_budget_s = request_budget_s
        self._protocol = protocol_class(idle_timeout_s, read_timeout_s, max_header_bytes)
        self.inline_rows = INLINE_ROWS  # searches estimated to scan more rows run in the worker pool
        self._pool: ThreadPoolExecutor | None = None
        self._server: _InProcessServer | None = None
        self._task: asyncio.Task | None = None

    # ---- addresses and sessions ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>/ (the port is known once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    def base_url_for_id(self, session_id: str) -> str:
        if session_id == DEFAULT_SESSION:
            return f"{self.url}fhir/"
        return f"{self.url}{session_id}/fhir/"

    def base_url_for(self, session: FhirSession) -> str:
        """The URL this server answers `session` on (its display base may differ, see create_session)."""
        return self.base_url_for_id(session.id)

    def create_session(self, display_base: str | None = None, pretty: bool | None = None) -> FhirSession:
        """A new isolated session; `display_base` is what fullUrl/links show (default: its real base)."""
        return self.sessions.create(display_base, pretty=pretty)

    def drop_session(self, session: FhirSession | str) -> None:
        self.sessions.drop(session if isinstance(session, str) else session.id)

    @property
    def default_session(self) -> FhirSession:
        """The session served at http://127.0.0.1:<port>/fhir/ (used by the CLI)."""
        session = self.sessions.get(DEFAULT_SESSION)
        return session or self.sessions.create(session_id=DEFAULT_SESSION)

    # ---- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("server already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._asgi,
            log_level="warning",
            access_log=False,
            lifespan="off",
            interface="asgi3",
            proxy_headers=False,
            http=self._protocol,
            timeout_keep_alive=max(1, math.ceil(self._protocol.idle_timeout)),  # ours closes first
            server_header=False,
            date_header=False,
        )
        self._server = _InProcessServer(config)
        self._pool = ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="fhir-search")
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("FHIR server stopped during startup")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = self._task = None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def __aenter__(self) -> FhirServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        """Serve until cancelled (used by the CLI after start())."""
        assert self._task is not None, "start() first"
        await self._task

    @contextlib.contextmanager
    def running(self) -> Iterator[FhirServer]:
        """Run in a background thread for sync callers (tests, benchmarks)."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="fhir-server", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self.start(), loop).result(60)
            yield self
        finally:
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.stop(), loop).result(60)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(60)
            loop.close()

    # ---- requests -----------------------------------------------------------------------------------

    def route(self, path: str) -> tuple[FhirSession, str, str] | FhirResponse:
        """(session, path below its base, the base's path from the root) or a 404 response."""
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["fhir"]:
            return self.default_session, "/".join(parts[1:]), "fhir/"
        if len(parts) >= 2 and parts[1] == "fhir":
            session = self.sessions.get(parts[0])
            if session is None:
                return _error(404, f"Unknown or closed FHIR session {parts[0]!r}", "not-found")
            return session, "/".join(parts[2:]), f"{parts[0]}/fhir/"
        return _error(404, "Not a FHIR endpoint: bases look like http://127.0.0.1:<port>/<session>/fhir/", "not-found")

    def handle(
        self,
        method: str,
        path: str,
        query: str = "",
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        deadline: Deadline | None = None,
    ) -> FhirResponse:
        """Route one request (path from the server root) to its session."""
        routed = self.route(path)
        if isinstance(routed, FhirResponse):
            return routed
        session, rest, prefix = routed
        headers = headers or {}
        base = None
        if session.follow_host:
            host = headers.get("host", "")
            if _HOST.fullmatch(host):
                base = f"http://{host}/{prefix}"
        return session.handle(method, rest, query, body, headers, base, deadline)

    def _is_heavy(self, method: str, path: str, query: str, body: bytes) -> bool:
        """Requests that may take long run in the worker pool, so the event loop keeps serving the rest."""
        if method == "POST" and len(body) > INLINE_BODY_BYTES:
            return True
        routed = self.route(path)
        if isinstance(routed, FhirResponse):
            return False
        session, rest, _ = routed
        search = session.search_params(method, rest, query, body)
        return search is not None and session.estimate(*search) > self.inline_rows

    async def _asgi(self, scope: dict, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            return
        try:
            response = await self._respond(scope, receive)
        except Exception as e:  # never leak a traceback to the client
            log.exception("FHIR server error on %s %s", scope.get("method"), scope.get("path"))
            response = _error(500, f"Internal server error ({type(e).__name__})", "exception")
        headers = [(k.encode(), v.encode()) for k, v in response.headers]
        headers.append((b"content-length", str(len(response.body)).encode()))
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})

    async def _respond(self, scope: dict, receive) -> FhirResponse:  # noqa: ANN001
        deadline = Deadline(self.request_budget_s)
        raw_query: bytes = scope.get("query_string", b"")
        if len(raw_query) > MAX_QUERY_BYTES:
            return _error(414, f"Query string longer than {MAX_QUERY_BYTES} bytes", "too-long")
        try:
            query = raw_query.decode("utf-8")
        except UnicodeDecodeError:
            return _error(400, "Query string is not valid UTF-8", "invalid")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or ()}
        body = b""
        method = scope["method"]
        if method in ("POST", "PUT", "PATCH"):
            declared = headers.get("content-length")
            if declared is not None and (
                not (declared.isascii() and declared.isdigit()) or int(declared) > self.max_body_bytes
            ):
                return _refuse_body(self.max_body_bytes)
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return _error(400, "Client disconnected", "incomplete")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body_bytes:
                    return _refuse_body(self.max_body_bytes)
                chunks.append(chunk)
                more = message.get("more_body", False)
            body = b"".join(chunks)
        path = scope["path"]
        if self._is_heavy(method, path, query, body):
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self.handle, method, path, query, body, headers, deadline)
        return self.handle(method, path, query, body, headers, deadline)


def _refuse_body(limit: int) -> FhirResponse:
    """413, and the connection is closed: the rest of the refused body is never read (as Jetty does)."""
    response = _error(413, f"Request body larger than {limit} bytes", "too-long")
    response.headers.append(("connection", "close"))
    return response


def _error(status: int, diagnostics: str, code: str) -> FhirResponse:
    return FhirResponse(status, outcome_bytes(diagnostics, code), [("content-type", FHIR_JSON)])
