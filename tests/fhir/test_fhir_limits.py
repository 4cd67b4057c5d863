"""Bounded cost (issue 7 §1) and race-free writes (§3): no query may stall the others."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, quote

import httpx
import pytest
from fhir_fixtures import observation, patient

from medarc_inspect.fhir.limits import MAX_SORT_KEYS
from medarc_inspect.fhir.search import parse_query, run_query
from medarc_inspect.fhir.server import FhirServer
from medarc_inspect.fhir.session import FhirSession
from medarc_inspect.fhir.store import FhirStore

N_PATIENTS = 20_000


@pytest.fixture(scope="module")
def big_store() -> FhirStore:
    """20,000 patients and 20,000 observations: enough rows for a scan to be slow when asked to be."""
    people = [
        patient(f"P{i}", f"Family{i % 997}", f"Given{i % 991}", "1960-01-01", "female") for i in range(N_PATIENTS)
    ]
    labs = [
        observation(str(10_000 + i), f"P{i}", "MG" if i % 2 else "K", f"2023-01-{1 + i % 28:02d}T10:00:00Z", 1.0)
        for i in range(N_PATIENTS)
    ]
    return FhirStore.from_resources(people + labs)


def _outcome(r: httpx.Response, status: int, code: str | None = None) -> str:
    assert r.status_code == status, r.text[:500]
    issue = r.json()["issue"][0]
    if code:
        assert issue["code"] == code, issue
    return issue["diagnostics"]


def test_heavy_query_ends_with_too_costly_while_light_ones_stay_fast(big_store: FhirStore) -> None:
    heavy = "Patient?name:contains=" + ",".join(f"zz{i}q" for i in range(1000))  # 1000 × rows × names
    server = FhirServer(big_store, request_budget_s=1.0)
    server.inline_rows = 1000
    with server.running(), httpx.Client(timeout=60) as client:
        base = server.default_session.base_url
        results: list[httpx.Response] = []
        threads = [threading.Thread(target=lambda: results.append(client.get(base + heavy))) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.2)  # the heavy ones are running
        light_ms = []
        with httpx.Client(timeout=60) as light:
            while any(t.is_alive() for t in threads):
                t0 = time.perf_counter()
                r = light.get(base + "Patient/P7")
                light_ms.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200
                time.sleep(0.01)
        for t in threads:
            t.join()
    assert [r.status_code for r in results] == [400, 400, 400]
    assert "budget" in _outcome(results[0], 400, "too-costly")
    assert light_ms and max(light_ms) < 1000, light_ms  # loose: the heavy ones never held the loop


def test_repeats_collapse_and_big_or_lists_stay_cheap(big_store: FhirStore) -> None:
    session = FhirSession(big_store, "s", "http://x/fhir/")
    many_sort = "&".join(["_sort=date"] * 40)  # 40 identical keys are one key (and one parameter)
    assert session.handle("GET", "Observation", f"_count=1&{many_sort}").status == 200
    repeated = "&".join(["code=MG"] * 2000)  # identical repeats count once
    t0 = time.perf_counter()
    r = session.handle("GET", "Observation", f"{repeated}&_count=0")
    assert r.status == 200 and r.json()["total"] == N_PATIENTS // 2
    days = [f"2023-01-{d:02d}" for d in range(1, 29)]
    values = [f"{d}T{h:02d}:00:00Z" for d in days for h in range(18)]  # 504 values, 28 of them match
    listed = session.handle("GET", "Observation", "_count=0&date=" + quote(",".join(values)))
    assert listed.status == 200 and listed.json()["total"] == N_PATIENTS
    assert time.perf_counter() - t0 < 30  # loose: was minutes before OR-lists were compiled once


def test_or_lists_give_the_union_of_their_values(big_store: FhirStore) -> None:
    table = big_store.tables["Observation"]

    def ids(query: str) -> set[int]:
        return {row for _, row in run_query([table], parse_query("Observation", parse_qsl(query)))}

    for prefix in ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb"):
        a, b = f"{prefix}2023-01-03", f"{prefix}2023-01-20"
        assert ids(f"date={a},{b}") == ids(f"date={a}") | ids(f"date={b}"), prefix
    mixed = "date=eq2023-01-05,ge2023-01-27,lt2023-01-02"
    assert ids(mixed) == ids("date=eq2023-01-05") | ids("date=ge2023-01-27") | ids("date=lt2023-01-02")


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("_sort=" + ",".join(["date"] * (MAX_SORT_KEYS + 1)), "_sort keys"),
        ("&".join(f"_sort={'date,' * i}-date" for i in range(8)), "_sort keys"),
        ("&".join(f"code=C{i}" for i in range(65)), "distinct search parameters"),
        ("code=" + ",".join(f"C{i}" for i in range(1001)), "values in parameter"),
    ],
)
def test_oversized_queries_are_refused_as_too_costly(store: FhirStore, query: str, fragment: str) -> None:
    r = FhirSession(store, "s", "http://x/fhir/").handle("GET", "Observation", query)
    assert r.status == 400 and r.json()["issue"][0]["code"] == "too-costly"
    assert fragment in r.json()["issue"][0]["diagnostics"]


def test_writes_from_threads_and_http_are_race_free(store: FhirStore) -> None:
    server = FhirServer(store)
    body = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"code": "x"}]},
        "subject": {"reference": "S1"},
    }
    with server.running():
        session = server.create_session()
        base = server.base_url_for(session)

        def in_process(n: int) -> list[str]:
            return [session.create("Observation", body)["id"] for _ in range(n)]

        def over_http(n: int) -> list[str]:
            with httpx.Client(timeout=60) as client:
                out = []
                for _ in range(n):
                    r = client.post(base + "Observation", json=body)
                    assert r.status_code == 201, r.text
                    out.append(r.json()["id"])
                return out

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(in_process, 150) for _ in range(4)] + [pool.submit(over_http, 100) for _ in range(4)]
            ids = [i for f in futures for i in f.result()]
        assert len(ids) == len(set(ids)) == 1000
        bundle = session.search("Observation", [("code", "x"), ("_count", "5000")])
        assert bundle["total"] == 1000
        assert sorted(e["resource"]["id"] for e in bundle["entry"]) == sorted(ids)
        assert len(session.created) == 1000


def test_create_leaves_the_callers_dict_alone(store: FhirStore) -> None:
    session = FhirSession(store, "s", "http://x/fhir/")
    body = {"resourceType": "Observation", "status": "final", "meta": {"tag": [{"code": "t"}]}}
    stored = session.create("Observation", body)
    assert body == {"resourceType": "Observation", "status": "final", "meta": {"tag": [{"code": "t"}]}}
    assert stored["id"] and stored["meta"]["versionId"] == "1"
    stored["status"] = "changed"  # the returned copy is the caller's too
    assert session.read("Observation", stored["id"])["status"] == "final"
