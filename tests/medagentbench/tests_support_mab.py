"""Helpers shared by the MedAgentBench tests (plain functions; fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path

from medarc_inspect.medagentbench.backend import embedded_backend
from medarc_inspect.medagentbench.task_files import load_task_file

MIRROR = Path(__file__).resolve().parents[3] / "shared" / "mirror"
V2_FILE = ("v2", "new_patient_tasks.json")
V1_FILE = ("v1", "test_data_v2.json")


def rows(version: str, name: str) -> dict[str, dict]:
    return {row["id"]: row for row in load_task_file(version, name)}


def fresh_fhir():  # noqa: ANN201
    """A new isolated session on the embedded synthetic EHR (the store is built once per process)."""
    backend = embedded_backend()
    return backend.open(f"test-{id(backend)}")
