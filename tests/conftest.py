"""Test-wide setup: offline tokenizer for mockllm, no network, isolated caches."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from medarc_inspect.testing.offline import prefill_tiktoken_cache

os.environ.setdefault("TIKTOKEN_CACHE_DIR", os.path.join(tempfile.gettempdir(), "medarc-tiktoken"))
prefill_tiktoken_cache()

SHARED_MIRROR = Path(
    os.environ.get("MEDARC_INSPECT_MIRROR") or Path(__file__).resolve().parents[2] / "shared" / "mirror"
)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own data cache and Inspect cache, and no mirror unless it asks for one."""
    monkeypatch.setenv("MEDARC_INSPECT_CACHE_DIR", str(tmp_path_factory.mktemp("data-cache")))
    monkeypatch.setenv("INSPECT_CACHE_DIR", str(tmp_path_factory.mktemp("inspect-cache")))
    monkeypatch.delenv("MEDARC_INSPECT_MIRROR", raising=False)
    monkeypatch.delenv("MEDARC_INSPECT_OFFLINE", raising=False)
    monkeypatch.setenv("INSPECT_LOG_DIR", os.path.join(tempfile.gettempdir(), "medarc-test-logs"))


@pytest.fixture
def shared_mirror(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The real upstream files in ../shared/mirror as the offline mirror, network off (skips when absent)."""
    if not SHARED_MIRROR.is_dir():
        pytest.skip(f"offline mirror not found at {SHARED_MIRROR}")
    monkeypatch.setenv("MEDARC_INSPECT_MIRROR", str(SHARED_MIRROR))
    monkeypatch.setenv("MEDARC_INSPECT_OFFLINE", "1")
    return SHARED_MIRROR


def build_mirror(root: Path, *subtrees: str) -> Path:
    """A mirror at `root` holding only the given `<host>/<path>` subtrees of the shared mirror (symlinked).

    Tests that need some upstream files present and others absent build exactly that mirror instead of
    assuming what the shared one lacks.
    """
    for subtree in subtrees:
        source = SHARED_MIRROR / subtree
        if not source.exists():
            pytest.skip(f"{subtree} is not in the offline mirror at {SHARED_MIRROR}")
        link = root / subtree
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(source, target_is_directory=source.is_dir())
    return root
