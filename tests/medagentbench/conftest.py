"""Fixtures for MedAgentBench tests: the real task files from the shared mirror and the embedded backend."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests_support_mab import MIRROR


@pytest.fixture
def mab_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Offline, with the shared mirror (skips when absent); a shared cache so pinned files are copied once."""
    if not MIRROR.is_dir():
        pytest.skip(f"offline mirror not found at {MIRROR}")
    monkeypatch.setenv("MEDARC_INSPECT_MIRROR", str(MIRROR))
    monkeypatch.setenv("MEDARC_INSPECT_OFFLINE", "1")
    cache = Path(os.environ.get("PYTEST_MAB_CACHE", "")) if os.environ.get("PYTEST_MAB_CACHE") else None
    if cache is None:
        cache = tmp_path_factory.getbasetemp() / "mab-cache"
        cache.mkdir(exist_ok=True)
    monkeypatch.setenv("MEDARC_INSPECT_CACHE_DIR", str(cache))
    return MIRROR


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[str]:
    yield str(tmp_path / "logs")
