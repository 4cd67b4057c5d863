"""What real FHIR clients do (issue 7 §7): fhirpy against the running server, and the HAPI behaviours they use."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from medarc_inspect.fhir.server import FhirServer
from medarc_inspect.fhir.store import FhirStore

fhirpy = pytest.importorskip("fhirpy")


@pytest.fixture
def running(store: FhirStore) -> Iterator[FhirServer]:
    server = FhirServer(store)
    with server.running():
        yield server


def _ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def test_fhirpy_flows(running: FhirServer) -> None:
    from fhirpy import SyncFHIRClient
    from fhirpy.base.exceptions import ResourceNotFound

    # `localhost`, not the server's own 127.0.0.1: fhirpy only follows links on the base it was given
    client = SyncFHIRClient(f"http://localhost:{running.port}/fhir/")
    mg = client.resources("Observation").search(patient="S1", code="MG")
    newest_first = [o.id for o in mg.sort("-date").fetch()]
    assert newest_first == ["1003", "1001", "1002", "1005"]
    assert mg.count() == 4  # _totalMethod=count
    paged = client.resources("Observation").search(patient="S1").limit(3).fetch_all()  # follows next links
    assert len(paged) == 9 and len({o.id for o in paged}) == 9
    older = client.resources("Patient").search(birthdate__lt="1950").fetch()
    assert sorted(p.id for p in older) == ["S1", "S2"]
    patient = client.reference("Patient", "S1").to_resource()
    assert patient["name"][0]["family"] == "Álvarez"
    created = client.resource(
        "Observation", status="final", code={"coding": [{"code": "NEW"}]}, subject={"reference": "Patient/S1"}
    )
    created.save()
    assert created.id and client.resources("Observation").search(code="NEW").count() == 1
    with pytest.raises(ResourceNotFound):
        client.reference("Patient", "nobody").to_resource()


def test_sort_modifiers_as_hapi_reads_them(running: FhirServer) -> None:
    base = running.default_session.base_url
    desc = httpx.get(base + "Observation?patient=S1&code=MG&_sort:desc=date").json()
    assert _ids(desc) == ["1003", "1001", "1002", "1005"]
    asc = httpx.get(base + "Observation?patient=S1&code=MG&_sort:asc=date").json()
    assert _ids(asc) == ["1005", "1002", "1001", "1003"]
    for bad in ("_sort:bogus=date", "_count:x=2", "_offset:exact=1", "_pretty:not=true"):
        r = httpx.get(base + "Observation?" + bad)
        assert r.status_code == 400 and "modifier" in r.json()["issue"][0]["diagnostics"], bad


@pytest.mark.parametrize(
    ("old", "new"), [(">=1953-10-18", "ge1953-10-18"), ("<=1953", "le1953"), (">1953", "gt1953"), ("<1953", "lt1953")]
)
def test_old_comparators(running: FhirServer, old: str, new: str) -> None:
    base = running.default_session.base_url
    got = httpx.get(base + "Patient", params={"birthdate": old}).json()
    assert _ids(got) == _ids(httpx.get(base + "Patient", params={"birthdate": new}).json())
    assert got["total"] > 0


def test_links_follow_the_host_the_client_used(running: FhirServer) -> None:
    session = running.create_session()
    url = running.base_url_for(session).replace("127.0.0.1", "localhost")
    bundle = httpx.get(url + "Observation?_count=2").json()
    assert all(link["url"].startswith(url) for link in bundle["link"])
    assert bundle["entry"][0]["fullUrl"].startswith(url)
    evil = httpx.get(url + "Observation?_count=2", headers={"Host": "evil.example/x?"}).json()
    assert all(link["url"].startswith(running.base_url_for(session)) for link in evil["link"])  # not a host: ignored
    chosen = running.create_session("http://localhost:8080/fhir/")  # a display base wins over the Host
    bundle = httpx.get(running.base_url_for(chosen) + "Observation?_count=2").json()
    assert bundle["link"][0]["url"].startswith("http://localhost:8080/fhir/Observation")


def test_total_method_and_total(running: FhirServer) -> None:
    base = running.default_session.base_url
    for query in ("_totalMethod=count", "_total=accurate", "_totalMethod=estimate&_count=0"):
        assert httpx.get(f"{base}Observation?patient=S1&{query}").json()["total"] == 9
    assert httpx.get(f"{base}Observation?_totalMethod=maybe").status_code == 400


def test_post_search_with_a_form_body(running: FhirServer) -> None:
    base = running.default_session.base_url
    r = httpx.post(base + "Observation/_search?patient=S1", data={"code": "MG", "_sort": "-date"})
    assert r.status_code == 200 and _ids(r.json()) == ["1003", "1001", "1002", "1005"]
    assert httpx.get(base + "Observation/_search?code=GLU").json()["total"] == 1
    wrong = httpx.post(base + "Observation/_search", content=b'{"code": "MG"}', headers={"content-type": "text/json"})
    assert wrong.status_code == 415


def test_compartment_search(running: FhirServer) -> None:
    base = running.default_session.base_url
    got = httpx.get(base + "Patient/S1/Observation?code=MG").json()
    assert sorted(_ids(got)) == ["1001", "1002", "1003", "1005"]
    assert httpx.get(base + "Patient/S2/Observation").json()["total"] == 1
    assert httpx.get(base + "Patient/S1/Procedure").json()["total"] == 2
    assert httpx.get(base + "Patient/S1/Patient").status_code == 400  # no patient parameter on Patient


def test_etag_last_modified_and_304(running: FhirServer) -> None:
    base = running.default_session.base_url
    r = httpx.get(base + "Patient/S1")
    assert r.headers["etag"] == 'W/"1"'
    assert r.headers["last-modified"] == "Mon, 30 Dec 2024 19:05:44 GMT"
    again = httpx.get(base + "Patient/S1", headers={"If-None-Match": 'W/"1"'})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == 'W/"1"'
    assert httpx.get(base + "Patient/S1", headers={"If-None-Match": 'W/"2"'}).status_code == 200
    created = httpx.post(base + "Observation", json={"resourceType": "Observation", "status": "final"})
    assert created.headers["etag"] == 'W/"1"'


def test_unsupported_operations_say_so_like_hapi(running: FhirServer) -> None:
    base = running.default_session.base_url
    for path in ("Patient/S1/$everything", "Patient/$match", "Observation/1001/_history"):
        r = httpx.get(base + path)
        assert r.status_code == 400, path
        assert "does not know how to handle GET operation" in r.json()["issue"][0]["diagnostics"]
