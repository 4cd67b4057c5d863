"""Where a sample's FHIR requests go: the embedded server (one isolated session per sample) or a real server.

The model always sees one stable base URL (`DISPLAY_BASE`, or `fhir_api_base` itself for a real server);
`SampleFhir.request` refuses anything not on that base and routes the rest to the sample's own state:
in process (`FhirSession.request`, no socket) for the embedded server, over HTTP for a real one (state
shared between samples, as upstream).
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

from medarc_inspect.errors import UserFacingError
from medarc_inspect.fhir.session import FhirSession, SessionRegistry
from medarc_inspect.fhir.store import FhirStore

DISPLAY_BASE = "http://localhost:8080/fhir/"
REMOTE_TIMEOUT_S = 60.0
METADATA_TIMEOUT_S = 10.0
#: What graders read with (upstream: every search asks for one page of up to 5000).
GRADER_COUNT = "5000"

_STORES: dict[str, FhirStore] = {}
_STORES_LOCK = threading.Lock()


class FhirBackendError(UserFacingError):
    """The FHIR backend cannot be used (server down, bad data directory)."""


class FhirReadError(RuntimeError):
    """A grader's read failed: the sample errors (visibly) instead of being scored wrong."""


@dataclass
class FhirReply:
    """One HTTP exchange as the agent sees it."""

    status: int
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> dict:
        return json.loads(self.text)


class SampleFhir:
    """One sample's view of the FHIR server: a base URL and request routing confined to it."""

    def __init__(self, base_url: str, session: FhirSession | None = None, client: httpx.AsyncClient | None = None):
        self.base_url = base_url
        self._session = session
        self._client = client

    async def request(self, method: str, url: str, body: str | None = None) -> FhirReply:
        """Send `method url` (a full URL on the base). Raises `httpx.HTTPError` only for a real server's
        transport failures; FHIR errors come back as a reply with their status."""
        if not url.startswith(self.base_url):
            return FhirReply(404, _outcome(f"URL is not on this server's base {self.base_url}: {url[:200]}"))
        if self._session is not None:
            response = self._session.request(method, url, (body or "").encode())
            return FhirReply(response.status, response.body.decode("utf-8", errors="replace"))
        assert self._client is not None
        headers = {"Content-Type": "application/fhir+json"} if body is not None else {}
        response = await self._client.request(method, url, content=body, headers=headers)
        return FhirReply(response.status_code, response.text)

    async def search(self, resource_type: str, params: dict[str, str]) -> list[dict]:
        """Every resource a grader-style search returns (`_count=5000&_format=json`); raises on failure."""
        query = urlencode({**params, "_count": GRADER_COUNT, "_format": "json"})
        try:
            reply = await self.request("GET", f"{self.base_url}{resource_type}?{query}")
        except httpx.HTTPError as e:
            raise FhirReadError(f"grader search {resource_type}?{query} failed: {type(e).__name__}: {e}") from None
        if not reply.ok:
            raise FhirReadError(f"grader search {resource_type}?{query} failed with HTTP {reply.status}")
        return [entry["resource"] for entry in reply.json().get("entry", [])]


class FhirBackend:
    """Creates and closes `SampleFhir`s for one task run."""

    def __init__(self, store: FhirStore | None = None, api_base: str | None = None) -> None:
        if (store is None) == (api_base is None):
            raise ValueError("give exactly one of store and api_base")
        self.api_base = api_base
        self.base_url = api_base or DISPLAY_BASE
        self._registry = SessionRegistry(store) if store is not None else None
        self._client: httpx.AsyncClient | None = None
        self._open: dict[str, SampleFhir] = {}

    @property
    def shared_state(self) -> bool:
        """True for a real server: every sample reads and writes the same data."""
        return self._registry is None

    def open(self, key: str) -> SampleFhir:
        """The FHIR view for sample `key` (a new isolated session on the embedded server)."""
        if self._registry is not None:
            session = self._registry.create(DISPLAY_BASE, session_id=f"{key}-{secrets.token_hex(4)}")
            sample = SampleFhir(DISPLAY_BASE, session=session)
        else:
            if self._client is None:
                self._client = httpx.AsyncClient(timeout=REMOTE_TIMEOUT_S)
            sample = SampleFhir(self.base_url, client=self._client)
        self._open[key] = sample
        return sample

    def get(self, key: str) -> SampleFhir | None:
        return self._open.get(key)

    def close(self, key: str) -> None:
        sample = self._open.pop(key, None)
        if sample is not None and sample._session is not None and self._registry is not None:
            self._registry.drop(sample._session.id)


def embedded_backend(fhir_data: str | None = None, seed: int = 0) -> FhirBackend:
    """The embedded server over the synthetic EHR (default) or a directory of NDJSON / Bundle files."""
    return FhirBackend(store=_store(fhir_data, seed))


def remote_backend(api_base: str) -> FhirBackend:
    """A real FHIR server (e.g. the upstream HAPI image), checked with GET metadata now."""
    base = api_base if api_base.endswith("/") else api_base + "/"
    check_metadata(base)
    return FhirBackend(api_base=base)


def check_metadata(base: str) -> None:
    """Raise FhirBackendError (one line) unless `base` answers GET metadata with a CapabilityStatement."""
    try:
        response = httpx.get(f"{base}metadata", timeout=METADATA_TIMEOUT_S, params={"_format": "json"})
        kind = response.json().get("resourceType") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError) as e:
        raise FhirBackendError(
            f"FHIR server at {base} does not answer GET metadata ({type(e).__name__}); start it or fix -T fhir_api_base"
        ) from None
    if kind != "CapabilityStatement":
        raise FhirBackendError(
            f"FHIR server at {base} answered GET metadata with HTTP {response.status_code}, not a "
            "CapabilityStatement; check -T fhir_api_base"
        )


def synthetic_manifest(seed: int = 0) -> dict[str, dict]:
    """The synthetic EHR's per-task manifest (branch names for sample metadata)."""
    return _synthetic(seed).manifest


_SYNTHETIC: dict[int, object] = {}


def _synthetic(seed: int):  # noqa: ANN202
    from medarc_inspect.medagentbench.synthetic import build_synthetic_ehr

    with _STORES_LOCK:
        ehr = _SYNTHETIC.get(seed)
        if ehr is None:
            ehr = _SYNTHETIC[seed] = build_synthetic_ehr(seed=seed)
    return ehr


def _store(fhir_data: str | None, seed: int) -> FhirStore:
    key = f"dir:{Path(fhir_data).resolve()}" if fhir_data else f"synthetic:{seed}"
    with _STORES_LOCK:
        store = _STORES.get(key)
    if store is not None:
        return store
    if fhir_data:
        if not Path(fhir_data).is_dir():
            raise FhirBackendError(f"-T fhir_data={fhir_data!r} is not a directory")
        try:
            store = FhirStore.from_dir(fhir_data)
        except ValueError as e:
            raise FhirBackendError(f"-T fhir_data={fhir_data!r} cannot be loaded: {e}") from None
    else:
        store = FhirStore.from_resources(_synthetic(seed).resources)  # type: ignore[attr-defined]
    with _STORES_LOCK:
        return _STORES.setdefault(key, store)


def _outcome(diagnostics: str) -> str:
    issue = {"severity": "error", "code": "not-found", "diagnostics": diagnostics}
    return json.dumps({"resourceType": "OperationOutcome", "issue": [issue]})
