"""Exact expectations for the behaviours a small planted fault would break unnoticed (issue 7 §8)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from medarc_inspect.fhir.dates import parse_range
from medarc_inspect.fhir.session import FhirSession
from medarc_inspect.fhir.store import FhirStore

BASE = "http://localhost:8080/fhir/"
OBSERVATIONS = 10  # in the fixture store


@pytest.fixture
def session(store: FhirStore) -> FhirSession:
    return FhirSession(store, "t", BASE)


def _ids(bundle: dict) -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", [])]


def _links(bundle: dict) -> dict[str, dict[str, str]]:
    """relation -> the link's query parameters (as a dict)."""
    out = {}
    for link in bundle["link"]:
        url = urlsplit(link["url"])
        assert f"{url.scheme}://{url.netloc}{url.path}" == BASE + "Observation"
        out[link["relation"]] = dict(parse_qsl(url.query))
    return out


@pytest.mark.parametrize(
    ("count", "offset", "previous", "next_"),
    [
        (5, 0, None, "5"),
        (5, 5, "0", None),  # the last page is full: no next
        (10, 0, None, None),
        (3, 9, "6", None),
        (3, 7, "4", None),
        (3, 2, "0", "5"),
        (4, 3, "0", "7"),
        (20, 0, None, None),
    ],
)
def test_paging_links_exactly(session: FhirSession, count: int, offset: int, previous: str | None, next_: str) -> None:
    bundle = session.search("Observation", [("_count", str(count)), ("_offset", str(offset))])
    assert bundle["total"] == OBSERVATIONS
    links = _links(bundle)
    assert links["self"].get("_offset", "0") == str(offset)
    assert ("previous" in links) == (previous is not None)
    assert ("next" in links) == (next_ is not None)
    if previous is not None:
        assert links["previous"] == {"_count": str(count), "_offset": previous}
    if next_ is not None:
        assert links["next"] == {"_count": str(count), "_offset": next_}
    assert len(bundle.get("entry", [])) == max(0, min(count, OBSERVATIONS - offset))


def test_sort_puts_undated_session_writes_last(session: FhirSession) -> None:
    def write(when: str | None) -> str:
        body = {"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/S1"}}
        body["code"] = {"coding": [{"code": "K"}]}
        if when:
            body["effectiveDateTime"] = when
        return session.create("Observation", body)["id"]

    undated, dated = write(None), write("2023-11-02T00:00:00Z")
    query = [("patient", "S1"), ("code", "K")]
    assert _ids(session.search("Observation", [*query, ("_sort", "date")])) == ["1008", "1009", dated, "1010", undated]
    assert _ids(session.search("Observation", [*query, ("_sort", "-date")])) == [dated, "1008", "1009", "1010", undated]
    assert _ids(session.search("Observation", [*query, ("_sort:desc", "date")])) == [
        dated,
        "1008",
        "1009",
        "1010",
        undated,
    ]


def test_history_references_resolve(session: FhirSession) -> None:
    assert _ids(session.search("Observation", [("patient", "Patient/S2/_history/1")])) == ["1007"]
    assert _ids(session.search("Observation", [("subject", f"{BASE}Patient/S2/_history/3")])) == ["1007"]
    body = {"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/S5/_history/1"}}
    created = session.create("Observation", body)["id"]
    assert _ids(session.search("Observation", [("patient", "S5")])) == [created]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sa2023-11-10", ["1001", "1002", "1003", "1005"]),  # 1005 is 2023-11-11 exactly: starts at the bound
        ("sa2023-11-11", ["1001", "1002", "1003"]),
        ("sa2023-11-12T10:14:59Z", ["1001", "1003"]),
        ("eb2023-11-12", ["1005"]),  # 1005 ends at midnight: ends at the bound
        ("eb2023-11-12T10:15:00Z", ["1002", "1005"]),
        ("eb2023-11-11", []),
        ("gt2023-11-12T10:15:00Z", ["1003"]),  # 1001 is the whole second 10:15:00, not after it
        ("lt2023-11-12T10:15:00Z", ["1002", "1005"]),
        ("le2023-11-12T10:15:00Z", ["1001", "1002", "1005"]),
        ("ne2023-11-12", ["1003", "1005"]),
    ],
)
def test_date_prefixes_exactly(session: FhirSession, value: str, expected: list[str]) -> None:
    bundle = session.search("Observation", [("patient", "S1"), ("code", "MG"), ("date", value)])
    assert _ids(bundle) == expected
    prefix = value[:2]
    if prefix != "ne":  # the same as one value of an OR-list (compiled differently) that adds nothing
        never = f"{prefix}2999-01-01" if prefix in ("sa", "gt", "ge") else f"{prefix}1900-01-01"
        bundle = session.search("Observation", [("patient", "S1"), ("code", "MG"), ("date", f"{value},{never}")])
        assert _ids(bundle) == expected


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("ge2023-11-30", True),  # the end "2023-11" covers all of November
        ("ge2023-12-01", False),
        ("sa2023-09-30", True),  # starts 2023-10-01T00:00 exactly
        ("sa2023-10-01", False),
        ("eb2023-12-01", True),  # ends 2023-12-01T00:00 exactly
        ("eb2023-11-30", False),
        ("lt2023-10-01", False),
        ("le2023-10-01", True),
        ("eq2023-11-15", True),
    ],
)
def test_period_bounds_keep_their_precision(session: FhirSession, value: str, found: bool) -> None:
    body = {"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/S5"}}
    created = session.create("Observation", {**body, "effectivePeriod": {"start": "2023-10", "end": "2023-11"}})
    assert _ids(session.search("Observation", [("patient", "S5"), ("date", value)])) == (
        [created["id"]] if found else []
    )


@pytest.mark.parametrize(
    "text", ["2023-01-01T24:00", "2023-01-01T24:00:00Z", "2023-01-01T23:60", "2023-01-01T10:00+14:01"]
)
def test_impossible_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_range(text)


def test_history_reads_check_the_version(session: FhirSession) -> None:
    assert session.handle("GET", "Observation/1001/_history/1").status == 200
    wrong = session.handle("GET", "Observation/1001/_history/2")
    assert wrong.status == 404 and wrong.json()["resourceType"] == "OperationOutcome"
    created = session.create("Observation", {"resourceType": "Observation", "status": "final"})
    assert session.handle("GET", f"Observation/{created['id']}/_history/1").status == 200
    assert session.handle("GET", f"Observation/{created['id']}/_history/9").status == 404
