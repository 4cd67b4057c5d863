"""Smoke test: the embedded server over the synthetic EHR answers the spec's acceptance queries (§9)."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from pathlib import Path

import pytest

from medarc_inspect.fhir.session import FhirSession
from medarc_inspect.fhir.store import FhirStore


@pytest.fixture
def synthetic_session(shared_mirror: Path) -> FhirSession:
    """The synthetic EHR built from the pinned task files in the mirror (MEDARC_INSPECT_MIRROR, else ../shared)."""
    if importlib.util.find_spec("medarc_inspect.medagentbench.synthetic") is None:
        pytest.skip("the synthetic EHR generator is not available")
    from medarc_inspect.medagentbench.synthetic import build_synthetic_ehr

    resources = build_synthetic_ehr(seed=0, scale=0.0).resources
    return FhirSession(FhirStore.from_resources(resources), "smoke", "http://localhost:8080/fhir/")


def test_acceptance_queries(synthetic_session: FhirSession) -> None:
    session = synthetic_session
    found = session.search("Patient", {"family": "alv", "birthdate": "1940-03-05"})
    assert [e["resource"]["id"] for e in found["entry"]] == ["S6426560"]
    assert session.search("Patient", {"identifier": "S6426560"})["total"] == 1
    cutoff = "2023-11-12T10:15:00+00:00"
    mg = session.search("Observation", [("patient", "S3032536"), ("code", "MG"), ("date", f"ge{cutoff}")])
    everything = session.search("Observation", [("patient", "S3032536"), ("code", "MG"), ("_count", "5000")])
    expected = [
        e["resource"]["id"]
        for e in everything.get("entry", [])
        if datetime.fromisoformat(e["resource"]["effectiveDateTime"]) >= datetime.fromisoformat(cutoff)
    ]
    assert [e["resource"]["id"] for e in mg.get("entry", [])] == expected
    assert 0 < len(expected) < everything["total"]
