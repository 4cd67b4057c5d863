"""Hostile input gets a 4xx OperationOutcome, never a 500 (issue 7 §2), and memory stays bounded (§6)."""

from __future__ import annotations

import json

import httpx
import pytest

from medarc_inspect.fhir.limits import MAX_DEPTH
from medarc_inspect.fhir.server import FhirServer
from medarc_inspect.fhir.session import FhirSession
from medarc_inspect.fhir.store import FhirStore
from medarc_inspect.fhir.table import ResourceTable

OBS = {"resourceType": "Observation", "status": "final", "code": {"coding": [{"code": "X"}]}}


def _nested(depth: int) -> dict:
    value: object = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value  # type: ignore[return-value]


def _extensions(depth: int) -> dict:
    ext: dict = {"url": "http://e", "valueString": "x"}
    for _ in range(depth):
        ext = {"url": "http://e", "extension": [ext]}
    return ext


HOSTILE_BODIES = {
    "1000 open brackets": b"[" * 1000,
    "100k nested brackets": b"[" * 100_000 + b"]" * 100_000,
    "unknown element 990 deep": (
        b'{"resourceType": "Observation", "status": "final", "zz": ' + b'{"a": ' * 990 + b'"leaf"' + b"}" * 991
    ),
    "extensions 400 deep": (
        b'{"resourceType": "Observation", "extension": ['
        + b'{"url": "http://e", "extension": [' * 400
        + b'{"url": "http://e", "valueString": "x"}'
        + b"]}" * 400
        + b"]}"
    ),
    "extensions 70 deep": json.dumps({**OBS, "extension": [_extensions(70)]}).encode(),
    "lone surrogate in an unknown element": json.dumps({**OBS, "zz": "\ud800"}).encode(),
    "lone surrogate as a key": b'{"resourceType": "Observation", "\\udfff": 1}',
    "offset +99:99": json.dumps({**OBS, "effectiveDateTime": "2023-01-01T10:00:00+99:99"}).encode(),
    "offset +14:30": json.dumps({**OBS, "effectiveDateTime": "2023-01-01T10:00:00+14:30"}).encode(),
    "T24:00 (minutes)": json.dumps({**OBS, "effectiveDateTime": "2023-01-01T24:00Z"}).encode(),
    "T24:00:00": json.dumps({**OBS, "effectiveDateTime": "2023-01-01T24:00:00Z"}).encode(),
    "Infinity": b'{"resourceType": "Observation", "zz": Infinity}',
    "1e400": b'{"resourceType": "Observation", "zz": 1e400}',
    "NaN": b'{"resourceType": "Observation", "zz": NaN}',
    "not UTF-8": b'{"resourceType": "Observation", "status": "\xff"}',
}
HOSTILE_QUERIES = [
    "Observation?_count=\u00b2",
    "Observation?_offset=\u00b2",
    "Observation?_count=\u0663",
    "Observation?_count=1" + "0" * 30,
    "Observation?date=\u0662\u0660\u0662\u0663",
    "Observation?date=2023-01-01T10:00:00%2B99:99",
    "Observation?date=2023-01-01T24:00",
    "Observation?date=ge",
    "Observation?_sort:bogus=date",
    "Observation?_count:x=5",
    "Observation?_offset:missing=5",
    "Observation?_totalMethod=sometimes",
]


@pytest.mark.parametrize("name", list(HOSTILE_BODIES))
async def test_hostile_bodies_get_400(server: FhirServer, name: str) -> None:
    base = server.base_url_for(server.create_session())
    async with httpx.AsyncClient() as client:
        r = await client.post(base + "Observation", content=HOSTILE_BODIES[name])
    assert r.status_code == 400, r.text[:300]
    assert r.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
async def test_hostile_queries_get_400(server: FhirServer, query: str) -> None:
    base = server.base_url_for(server.create_session())
    async with httpx.AsyncClient() as client:
        r = await client.get(base + query)
    assert r.status_code == 400, r.text[:300]
    assert r.json()["resourceType"] == "OperationOutcome"


def test_nesting_up_to_the_limit_is_accepted(store: FhirStore) -> None:
    session = FhirSession(store, "s", "http://x/fhir/")
    ok = session.handle("POST", "Observation", "", json.dumps({**OBS, "zz": _nested(MAX_DEPTH - 2)}).encode())
    assert ok.status == 201
    too_deep = session.handle("POST", "Observation", "", json.dumps({**OBS, "zz": _nested(MAX_DEPTH)}).encode())
    assert too_deep.status == 400 and too_deep.json()["issue"][0]["code"] == "too-costly"


def test_in_process_create_refuses_what_json_cannot_hold(store: FhirStore) -> None:
    session = FhirSession(store, "s", "http://x/fhir/")
    for bad in ({**OBS, "zz": float("inf")}, {**OBS, "zz": {1, 2}}, {**OBS, "zz": "\ud800"}):
        r = session.handle("POST", "Observation", "", b"")  # an empty body is a 400 too
        assert r.status == 400
        with pytest.raises(Exception) as caught:
            session.create("Observation", bad)
        assert getattr(caught.value, "status", None) == 400, caught.value


def test_write_quota_is_403(store: FhirStore) -> None:
    session = FhirSession(store, "s", "http://x/fhir/", max_writes=3, max_write_bytes=10_000)
    for _ in range(3):
        assert session.handle("POST", "Observation", "", json.dumps(OBS).encode()).status == 201
    full = session.handle("POST", "Observation", "", json.dumps(OBS).encode())
    assert full.status == 403 and "quota" in full.json()["issue"][0]["diagnostics"]
    roomy = FhirSession(store, "t", "http://x/fhir/", max_write_bytes=2_000)
    assert (
        roomy.handle("POST", "Observation", "", json.dumps({**OBS, "note": [{"text": "x" * 900}]}).encode()).status
        == 201
    )
    big = roomy.handle("POST", "Observation", "", json.dumps({**OBS, "note": [{"text": "x" * 1500}]}).encode())
    assert big.status == 403 and "bytes" in big.json()["issue"][0]["diagnostics"]
    assert roomy.written_bytes < 2_000


def test_pretty_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("medarc_inspect.fhir.table.PRETTY_CACHE_BYTES", 5_000)
    table = ResourceTable("Observation")
    for i in range(200):
        resource = {**OBS, "id": str(i), "note": [{"text": "x" * 100}]}
        table.add(resource, json.dumps(resource).encode())
    rendered = [table.pretty(i) for i in range(200)]
    assert all(json.loads(r)["id"] == str(i) for i, r in enumerate(rendered))
    assert 0 < table.pretty_cache_bytes <= 5_000
    assert table.pretty(199) is rendered[199]  # recent rows stay cached
