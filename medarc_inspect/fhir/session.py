"""Sessions: a copy-on-write view of the shared base store plus the session's own writes."""

from __future__ import annotations

import copy
import json
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import parse_qsl

from medarc_inspect.fhir.capability import capability_statement
from medarc_inspect.fhir.errors import FHIR_JSON, FhirDataError, FhirError
from medarc_inspect.fhir.limits import MAX_DEPTH, MAX_WRITE_BYTES, MAX_WRITES, Deadline, check_depth
from medarc_inspect.fhir.params import params_for
from medarc_inspect.fhir.search import bundle_bytes, bundle_dict, parse_query, run_query, wants_pretty
from medarc_inspect.fhir.store import FhirStore, compact
from medarc_inspect.fhir.table import ResourceTable
from medarc_inspect.fhir.validation import validate_resource

Params = Sequence[tuple[str, str]] | Mapping[str, str]


@dataclass
class FhirResponse:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=lambda: [("content-type", FHIR_JSON)])

    def json(self) -> dict:
        return json.loads(self.body)


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class FhirSession:
    """One sample's server state: reads see the base plus this session's writes; writes stay here.

    Every method is safe to call from any thread or task at once (writes take the session's lock; ids
    are unique per session), including while the HTTP server serves the same session.
    """

    def __init__(
        self,
        store: FhirStore,
        session_id: str,
        base_url: str,
        clock: Callable[[], str] = _utc_now,
        pretty: bool = False,
        follow_host: bool = False,
        max_write_bytes: int = MAX_WRITE_BYTES,
        max_writes: int = MAX_WRITES,
    ) -> None:
        """`follow_host`: links in HTTP answers use the request's `Host` (no display base was chosen)."""
        if not base_url.endswith("/"):
            raise ValueError(f"a FHIR base URL must end with '/': {base_url!r}")
        self.store = store
        self.id = session_id
        self.base_url = base_url  # the base shown in fullUrl, links and Location
        self.follow_host = follow_host
        self._clock = clock
        self.pretty = pretty  # indent HTTP responses by default (else compact; `_pretty` overrides per request)
        self.max_write_bytes = max_write_bytes
        self.max_writes = max_writes
        self._lock = threading.RLock()
        self._writes: dict[str, ResourceTable] = {}
        self._next_id = store.next_id
        self._written_bytes = 0
        self.created: list[dict] = []  # every resource this session created, in order

    # ---- in-process API -----------------------------------------------------------------------------

    def search(self, resource_type: str, params: Params = (), deadline: Deadline | None = None) -> dict:
        """Run a search and return the searchset Bundle as a dict."""
        query = parse_query(self._known(resource_type), _pairs(params))
        hits = run_query(self._layers(resource_type), query, deadline or Deadline(), self._lock)
        return bundle_dict(self.base_url, query, hits[query.offset : query.offset + query.count], len(hits))

    def read(self, resource_type: str, resource_id: str) -> dict:
        table, row = self._locate(self._known(resource_type), resource_id)
        return json.loads(table.raw[row])

    def create(self, resource_type: str, body: object) -> dict:
        """Validate and store a copy of a new resource (the caller's dict is left untouched); returns the
        stored copy (with id and meta). 400 if invalid, 403 when the session's write quota is used up."""
        rtype = self._known(resource_type)
        check_depth(body)
        validate_resource(rtype, body)
        resource = copy.deepcopy(body)
        assert isinstance(resource, dict)  # validate_resource checked it
        meta = dict(resource.get("meta") or {}) if isinstance(resource.get("meta"), dict) else {}
        with self._lock:
            if len(self.created) >= self.max_writes:
                raise FhirError(
                    403, f"This session's write quota is used up ({self.max_writes} resources)", "forbidden"
                )
            resource["id"] = str(self._next_id)
            meta.update(versionId="1", lastUpdated=self._clock())
            resource["meta"] = meta
            try:
                raw = compact(resource)
            except (TypeError, ValueError) as e:
                raise FhirError(400, f"The resource is not JSON: {e}", "invalid") from None
            if self._written_bytes + len(raw) > self.max_write_bytes:
                raise FhirError(
                    403, f"This session's write quota is used up ({self.max_write_bytes} bytes stored)", "forbidden"
                )
            table = self._writes.get(rtype)
            if table is None:
                table = self._writes[rtype] = ResourceTable(rtype)
            try:
                table.add(resource, raw)
            except FhirDataError as e:
                raise FhirError(400, str(e), "invalid") from None
            self._next_id += 1
            self._written_bytes += len(raw)
            self.created.append(resource)
        return copy.deepcopy(resource)

    @property
    def written_bytes(self) -> int:
        return self._written_bytes

    # ---- HTTP-shaped API ----------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        query: str = "",
        body: bytes = b"",
        headers: Mapping[str, str] | None = None,
        base: str | None = None,
        deadline: Deadline | None = None,
    ) -> FhirResponse:
        """Serve one request addressed relative to the base (`Observation/1`, `Patient`, `metadata`).

        `headers` (lower-case names) are the request's; `base` overrides the base shown in links.
        """
        request = _Request(
            method.upper(),
            [p for p in path.split("/") if p],
            query,
            body,
            headers or {},
            base or self.base_url,
            deadline or Deadline(),
        )
        try:
            return self._dispatch(request)
        except FhirError as e:
            return FhirResponse(e.status, _dump(e.outcome(), True))
        except RecursionError:
            return FhirResponse(400, _dump(FhirError(400, "The request nests too deeply").outcome(), True))

    def request(self, method: str, url: str, body: bytes | str = b"") -> FhirResponse:
        """Serve a request given its full URL on this session's base (what an agent writes), no socket.

        A URL outside the base is a 404 OperationOutcome.
        """
        if not url.startswith(self.base_url):
            return FhirResponse(
                404,
                _dump(FhirError(404, f"Not on this server's base {self.base_url}: {url}", "not-found").outcome(), True),
            )
        path, _, query = url[len(self.base_url) :].partition("?")
        return self.handle(method, path, query, body.encode() if isinstance(body, str) else body)

    def search_params(self, method: str, path: str, query: str, body: bytes) -> tuple[str, list] | None:
        """(type, parameters) if this request is a search, else None (used to estimate its cost)."""
        parts = [p for p in path.split("/") if p]
        try:
            if len(parts) == 1 and method == "GET" and parts[0] in self.store.tables:
                return parts[0], _parse_qs(query)
            if len(parts) == 2 and parts[1] == "_search" and parts[0] in self.store.tables:
                return parts[0], _parse_qs(query) + (_parse_qs(body.decode()) if method == "POST" else [])
            if len(parts) == 3 and method == "GET" and parts[0] == "Patient" and parts[2] in self.store.tables:
                return parts[2], [("patient", parts[1]), *_parse_qs(query)]
        except (FhirError, UnicodeDecodeError):
            return None
        return None

    def estimate(self, resource_type: str, params: list) -> int:
        """Rows a search would scan at most (0 if it is invalid: its error is cheap)."""
        try:
            query = parse_query(resource_type, params)
        except FhirError:
            return 0
        return self.store.tables[resource_type].estimate(query.filters)

    def _dispatch(self, req: _Request) -> FhirResponse:
        method, parts = req.method, req.parts
        pretty = wants_pretty(_pretty_param(req.query), self.pretty)
        if not parts:
            raise FhirError(400, "No resource type in the request URL (batch/transaction is not supported)")
        if parts == ["metadata"]:
            if method != "GET":
                raise _method_not_allowed(method, "metadata")
            return FhirResponse(200, _dump(capability_statement(self.store.resource_types, req.base), pretty))
        rtype = self._known(parts[0])
        if any(p.startswith("$") for p in parts):
            raise _unknown_operation(req)  # operations ($everything, $match, ...) are not implemented
        if len(parts) == 1:
            if method == "GET":
                return self._search_response(req, rtype, _parse_qs(req.query))
            if method == "POST":
                return self._create_response(req, rtype, pretty)
            raise _method_not_allowed(method, rtype)
        if parts[1] == "_search":
            if len(parts) != 2 or method not in ("GET", "POST"):
                raise _unknown_operation(req)
            params = _parse_qs(req.query)
            if method == "POST":
                params += _form_params(req)
            return self._search_response(req, rtype, params)
        if len(parts) == 3 and rtype == "Patient" and parts[2] in self.store.tables:  # compartment search
            if method != "GET":
                raise _method_not_allowed(method, "/".join(parts))
            target = parts[2]
            if "patient" not in params_for(target):
                raise FhirError(400, f"Compartment search of {target} in the Patient compartment is not supported")
            return self._search_response(req, target, [("patient", parts[1]), *_parse_qs(req.query)])
        if len(parts) == 2 or (len(parts) == 4 and parts[2] == "_history"):
            if method != "GET":
                raise _method_not_allowed(method, "/".join(parts))
            return self._read_response(req, rtype, parts, pretty)
        raise _unknown_operation(req)

    def _read_response(self, req: _Request, rtype: str, parts: list[str], pretty: bool) -> FhirResponse:
        table, row = self._locate(rtype, parts[1])
        raw = table.raw[row]
        version, updated = _version_and_updated(raw)
        if len(parts) == 4 and parts[3] != version:
            raise FhirError(404, f"Version {parts[3]} of resource {rtype}/{parts[1]} is not known", "not-found")
        headers = [("content-type", FHIR_JSON), ("etag", f'W/"{version}"')]
        if updated:
            headers.append(("last-modified", updated))
        wanted = req.headers.get("if-none-match")
        if wanted and version in {t.strip().removeprefix("W/").strip('"') for t in wanted.split(",")}:
            return FhirResponse(304, b"", headers[1:])
        return FhirResponse(200, table.pretty(row) if pretty else raw, headers)

    def _search_response(self, req: _Request, rtype: str, params: list) -> FhirResponse:
        query = parse_query(rtype, params, self.pretty)
        hits = run_query(self._layers(rtype), query, req.deadline, self._lock)
        page = hits[query.offset : query.offset + query.count]
        return FhirResponse(200, bundle_bytes(req.base, query, page, len(hits)))

    def _create_response(self, req: _Request, rtype: str, pretty: bool) -> FhirResponse:
        try:
            parsed = json.loads(req.body, parse_constant=_no_constant, parse_float=_finite_float)
        except (ValueError, UnicodeDecodeError) as e:
            raise FhirError(400, f"Failed to parse request body as JSON resource: {e}", "invalid") from None
        except RecursionError:
            raise FhirError(400, f"The resource nests deeper than {MAX_DEPTH} levels", "too-costly") from None
        resource = self.create(rtype, parsed)
        location = f"{req.base}{rtype}/{resource['id']}/_history/1"
        headers = [("content-type", FHIR_JSON), ("location", location), ("etag", 'W/"1"')]
        return FhirResponse(201, _dump(resource, pretty), headers)

    # ---- helpers ------------------------------------------------------------------------------------

    def _known(self, resource_type: str) -> str:
        if resource_type not in self.store.tables:
            known = ", ".join(sorted(self.store.tables))
            raise FhirError(
                404, f"Unknown resource type '{resource_type}' - Server knows how to handle: [{known}]", "not-found"
            )
        return resource_type

    def _layers(self, resource_type: str) -> list[ResourceTable]:
        writes = self._writes.get(resource_type)
        base = self.store.tables[resource_type]
        return [base, writes] if writes is not None else [base]

    def _locate(self, resource_type: str, resource_id: str) -> tuple[ResourceTable, int]:
        for table in self._layers(resource_type):
            row = table.by_id.get(resource_id)
            if row is not None and row < len(table.raw):
                return table, row
        raise FhirError(404, f"Resource {resource_type}/{resource_id} is not known", "not-found")


@dataclass
class _Request:
    method: str
    parts: list[str]
    query: str
    body: bytes
    headers: Mapping[str, str]
    base: str
    deadline: Deadline


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def _parse_qs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, strict_parsing=False)
    except ValueError as e:
        raise FhirError(400, f"Malformed query string: {e}", "invalid") from None


def _form_params(req: _Request) -> list[tuple[str, str]]:
    if not req.body:
        return []
    ctype = req.headers.get("content-type", "application/x-www-form-urlencoded").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise FhirError(415, f"POST _search takes an application/x-www-form-urlencoded body, not {ctype!r}")
    try:
        return _parse_qs(req.body.decode("utf-8"))
    except UnicodeDecodeError:
        raise FhirError(400, "The _search form body is not valid UTF-8", "invalid") from None


def _unknown_operation(req: _Request) -> FhirError:
    names = ", ".join(sorted({k for k, _ in _parse_qs(req.query)}))
    return FhirError(
        400,
        f"Invalid request: The FHIR endpoint on this server does not know how to handle {req.method} "
        f"operation[{'/'.join(req.parts)}] with parameters [[{names}]]",
        "not-supported",
    )


def _pretty_param(query: str) -> str | None:
    if "_pretty" not in query:
        return None
    values = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "_pretty"]
    return values[-1] if values else None


def _version_and_updated(raw: bytes) -> tuple[str, str | None]:
    """(meta.versionId or "1", meta.lastUpdated as an HTTP date or None)."""
    meta = json.loads(raw).get("meta")
    if not isinstance(meta, dict):
        return "1", None
    updated = None
    if isinstance(meta.get("lastUpdated"), str):
        try:
            moment = datetime.fromisoformat(meta["lastUpdated"].replace("Z", "+00:00"))
            updated = format_datetime((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC), True)
        except ValueError:
            updated = None
    return str(meta.get("versionId", "1")), updated


def _method_not_allowed(method: str, target: str) -> FhirError:
    return FhirError(405, f"Method {method} is not supported on {target}", "not-supported")


def _dump(resource: dict, pretty: bool) -> bytes:
    if pretty:
        return json.dumps(resource, indent=2, ensure_ascii=False).encode()
    return compact(resource)


def _pairs(params: Params) -> list[tuple[str, str]]:
    if isinstance(params, Mapping):
        return [(str(k), str(v)) for k, v in params.items()]
    return [(str(k), str(v)) for k, v in params]


class SessionRegistry:
    """Creates (O(1): nothing is copied), finds and drops sessions over one base store."""

    def __init__(
        self, store: FhirStore, base_url_for: Callable[[str], str] | None = None, pretty: bool = False
    ) -> None:
        self.store = store
        self.pretty = pretty
        self.base_url_for = base_url_for or (lambda sid: f"http://localhost/{sid}/fhir/")
        self._sessions: dict[str, FhirSession] = {}
        self._lock = threading.Lock()

    def create(
        self, base_url: str | None = None, session_id: str | None = None, pretty: bool | None = None
    ) -> FhirSession:
        """A new empty session. `base_url` is the base shown in responses (default: its server URL);
        `pretty` indents its HTTP responses (default: the registry's setting)."""
        sid = session_id or secrets.token_hex(8)
        with self._lock:
            if sid in self._sessions:
                raise ValueError(f"session {sid!r} already exists")
            session = FhirSession(
                self.store,
                sid,
                base_url or self.base_url_for(sid),
                pretty=self.pretty if pretty is None else pretty,
                follow_host=base_url is None,
            )
            self._sessions[sid] = session
        return session

    def get(self, session_id: str) -> FhirSession | None:
        return self._sessions.get(session_id)

    def drop(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)
