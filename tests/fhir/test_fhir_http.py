"""The HTTP server: routing, content types, POST validation, errors, paging links, session isolation."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import httpx
import pytest

from medarc_inspect.fhir.server import FhirServer

FHIR_JSON = "application/fhir+json;charset=UTF-8"

BP = {
    "resourceType": "Observation",
    "category": [
        {
            "coding": [
                {"system": "http://hl7.org/fhir/observation-category", "code": "vital-signs", "display": "Vital Signs"}
            ]
        }
    ],
    "code": {"text": "BP"},
    "effectiveDateTime": "2023-11-13T10:15:00+00:00",
    "status": "final",
    "valueString": "118/77 mmHg",
    "subject": {"reference": "Patient/S1"},
}


def outcome(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["diagnostics"]


async def test_search_over_http(server: FhirServer) -> None:
    session = server.create_session()
    base = server.base_url_for(session)
    assert base.endswith(f"/{session.id}/fhir/") and base.startswith("http://127.0.0.1:")
    async with httpx.AsyncClient() as client:
        r = await client.get(base + "Observation?patient=S3032536&code=MG&_count=5000&_format=json")
        assert r.status_code == 200
        assert r.headers["content-type"] == FHIR_JSON
        assert r.json()["total"] == 0
        r = await client.get(base + "Observation?patient=S1&code=MG&date=ge2023-11-12T10:15:00%2B00:00&_format=json")
        assert [e["resource"]["id"] for e in r.json()["entry"]] == ["1001", "1003"]
        assert r.json()["entry"][0]["fullUrl"] == base + "Observation/1001"
        # an unencoded '+' decodes to a space, which still means '+'
        r = await client.get(base + "Observation?patient=S1&code=MG&date=ge2023-11-12T10:15:00+00:00")
        assert [e["resource"]["id"] for e in r.json()["entry"]] == ["1001", "1003"]
        assert "\n" not in r.text  # compact by default
        r = await client.get(base + "Observation?patient=S1&code=MG&_pretty=true")
        assert r.text.startswith('{\n  "resourceType": "Bundle"') and r.json()["total"] == 4
        assert r.json()["entry"] == (await client.get(base + "Observation?patient=S1&code=MG")).json()["entry"]


async def test_pretty_sessions_indent_like_the_hapi_image(server: FhirServer) -> None:
    session = server.create_session(pretty=True)
    base = server.base_url_for(session)
    async with httpx.AsyncClient() as client:
        search = await client.get(base + "Observation?patient=S1&code=GLU")
        read = await client.get(base + "Observation/1004")
        compact = await client.get(base + "Observation?patient=S1&code=GLU&_pretty=false")
    assert search.json()["entry"] == compact.json()["entry"]
    entry = search.json()["entry"][0]["resource"]
    assert search.text == json.dumps(search.json(), indent=2, ensure_ascii=False)
    assert read.text == json.dumps(entry, indent=2, ensure_ascii=False)
    assert "\n" not in compact.text


async def test_next_link_works_with_format_appended(server: FhirServer) -> None:
    base = server.base_url_for(server.create_session())
    async with httpx.AsyncClient() as client:
        first = (await client.get(base + "Observation?patient=S1&_count=3&_sort=date")).json()
        seen = [e["resource"]["id"] for e in first["entry"]]
        url = next(link["url"] for link in first["link"] if link["relation"] == "next")
        while url:
            page = (await client.get(url + "&_format=json")).json()
            seen += [e["resource"]["id"] for e in page.get("entry", [])]
            url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    assert len(seen) == first["total"] == len(set(seen))


async def test_read_metadata_and_errors(server: FhirServer) -> None:
    base = server.base_url_for(server.create_session())
    async with httpx.AsyncClient() as client:
        r = await client.get(base + "Patient/S1")
        assert r.status_code == 200 and r.json()["id"] == "S1"
        assert r.headers["content-type"] == FHIR_JSON
        r = await client.get(base + "metadata")
        assert r.status_code == 200 and r.headers["content-type"] == FHIR_JSON
        cap = r.json()
        assert cap["resourceType"] == "CapabilityStatement" and cap["fhirVersion"] == "4.0.1"
        types = {res["type"] for res in cap["rest"][0]["resource"]}
        assert {"Patient", "Observation", "Procedure", "Condition", "MedicationRequest", "ServiceRequest"} <= types
        assert "not known" in outcome(await client.get(base + "Patient/nope"), 404)
        assert "Unknown resource type" in outcome(await client.get(base + "Encounter?patient=S1"), 404)
        assert "Unknown search parameter" in outcome(await client.get(base + "Observation?bogus=1"), 400)
        outcome(await client.get(base + "Observation?date=notadate"), 400)
        outcome(await client.get(base + "Observation?_count=%FF%FE"), 400)
        outcome(await client.delete(base + "Observation/1001"), 405)
        outcome(await client.put(base + "Observation/1001", content=b"{}"), 405)
        outcome(await client.get(server.url + "nothing/here"), 404)
        outcome(await client.get(server.url + "no-such-session/fhir/Patient"), 404)
        outcome(await client.get(base + "Observation?" + "x" * 20_000), 414)


async def test_post_creates_with_id_meta_and_location(server: FhirServer) -> None:
    session = server.create_session()
    base = server.base_url_for(session)
    async with httpx.AsyncClient() as client:
        r = await client.post(base + "Observation", json=BP)
        assert r.status_code == 201, r.text
        assert r.headers["content-type"] == FHIR_JSON
        created = r.json()
        assert r.headers["location"] == f"{base}Observation/{created['id']}/_history/1"
        assert created["meta"]["versionId"] == "1"
        assert datetime.fromisoformat(created["meta"]["lastUpdated"]) > datetime.fromisoformat(
            "2025-01-01T00:00:00+00:00"
        )
        assert created["valueString"] == "118/77 mmHg"
        assert int(created["id"]) > 5001  # never collides with a base id
        r = await client.get(f"{base}Observation/{created['id']}")
        assert r.json() == created
        r = await client.get(base + "Observation?patient=S1&code=BP")
        assert r.json()["total"] == 0  # code.text is not a token
        r = await client.get(base + "Observation?patient=S1&category=vital-signs&date=2023-11-13")
        assert [e["resource"]["id"] for e in r.json()["entry"]] == [created["id"]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({**BP, "resourceType": "Patient"}).encode(), "Incorrect resource type"),
        (json.dumps({k: v for k, v in BP.items() if k != "resourceType"}).encode(), "resourceType"),
        (json.dumps({**BP, "status": 5}).encode(), "status"),
        (json.dumps({**BP, "code": "BP"}).encode(), "code"),
        (json.dumps({**BP, "category": {"coding": []}}).encode(), "category"),
        (json.dumps({**BP, "effectiveDateTime": "yesterday"}).encode(), "effectiveDateTime"),
        (b"\xff\xfe", "JSON"),
    ],
)
async def test_post_validation_errors(server: FhirServer, body: bytes, message: str) -> None:
    session = server.create_session()
    async with httpx.AsyncClient() as client:
        r = await client.post(server.base_url_for(session) + "Observation", content=body)
    assert message in outcome(r, 400)
    assert session.created == []


async def test_post_leniency_like_hapi(server: FhirServer) -> None:
    base = server.base_url_for(server.create_session())
    medication = {
        "resourceType": "MedicationRequest",
        "medicationCodeableConcept": {
            "coding": [{"system": "http://hl7.org/fhir/sid/ndc", "code": "0338-1715-40"}],
            "text": "magnesium sulfate",
        },
        "authoredOn": "2023-11-13T10:15",  # minute precision: HAPI parses it
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/S1"},
        "notAnElement": {"anything": True},  # unknown elements pass
    }
    async with httpx.AsyncClient() as client:
        r = await client.post(base + "MedicationRequest", json=medication)
        assert r.status_code == 201, r.text
        assert r.json()["notAnElement"] == {"anything": True}
        r = await client.post(base + "ServiceRequest", json={"resourceType": "ServiceRequest"})
        assert r.status_code == 201  # missing required elements are not checked by HAPI's parser


async def test_body_too_large_is_413(store) -> None:  # noqa: ANN001
    async with FhirServer(store, max_body_bytes=1000) as server:
        base = server.base_url_for(server.create_session())
        async with httpx.AsyncClient() as client:
            r = await client.post(base + "Observation", json={**BP, "note": [{"text": "x" * 2000}]})
            outcome(r, 413)
            assert r.headers["connection"] == "close"
        # no content-length: counted while reading, then the connection is closed (the rest is never read)
        path = base.split(str(server.port), 1)[1]
        chunk = b"1f4\r\n" + b"x" * 500 + b"\r\n"
        request = f"POST {path}Observation HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(request + chunk * 10)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 30)  # read() returns at EOF: the server closed
        assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
        writer.close()


async def test_fifty_concurrent_sessions_are_isolated(server: FhirServer) -> None:
    sessions = [server.create_session() for _ in range(50)]

    async def one(client: httpx.AsyncClient, index: int) -> tuple[str, int, list[str]]:
        base = server.base_url_for(sessions[index])
        body = {**BP, "valueString": f"session {index}", "subject": {"reference": "Patient/S2"}}
        created = (await client.post(base + "Observation", json=body)).json()
        await asyncio.sleep(0)
        found = (await client.get(base + "Observation?patient=S2&category=vital-signs&_count=100")).json()
        return created["id"], found["total"], [e["resource"]["valueString"] for e in found.get("entry", [])]

    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(limits=limits) as client:
        results = await asyncio.gather(*(one(client, i) for i in range(50)))
    for index, (_, total, values) in enumerate(results):
        assert total == 1
        assert values == [f"session {index}"]
    other = server.create_session()
    assert other.search("Observation", {"patient": "S2", "category": "vital-signs"})["total"] == 0
    server.drop_session(sessions[0])
    async with httpx.AsyncClient() as client:
        outcome(await client.get(server.base_url_for(sessions[0]) + "Observation"), 404)


async def test_display_base_is_used_in_links(server: FhirServer) -> None:
    session = server.create_session("http://localhost:8080/fhir/")
    async with httpx.AsyncClient() as client:
        r = await client.get(server.base_url_for(session) + "Observation?patient=S1&code=GLU")
        created = await client.post(server.base_url_for(session) + "Observation", json=BP)
    assert r.json()["entry"][0]["fullUrl"] == "http://localhost:8080/fhir/Observation/1004"
    assert r.json()["link"][0]["url"].startswith("http://localhost:8080/fhir/Observation?")
    assert created.headers["location"].startswith("http://localhost:8080/fhir/Observation/")


def test_sync_running_and_default_session(store) -> None:  # noqa: ANN001
    server = FhirServer(store)
    with server.running():
        base = server.default_session.base_url
        assert base == server.url + "fhir/"
        assert httpx.get(base + "Patient?identifier=S1").json()["total"] == 1
    with pytest.raises(httpx.ConnectError):
        httpx.get(base + "metadata")


def test_only_loopback(store) -> None:  # noqa: ANN001
    with pytest.raises(ValueError, match="loopback"):
        FhirServer(store, host="0.0.0.0")
