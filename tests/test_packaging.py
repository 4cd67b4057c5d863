"""Packaging: `pip install .` builds outside the task tree, so `inspect list tasks` lists every task once."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

from inspect_ai import list_tasks

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_build_directory_is_hidden_from_task_discovery():
    build_base = PYPROJECT["tool"]["distutils"]["build"]["build_base"]
    assert build_base.startswith(".")  # Inspect skips directories starting with "." or "_"
    assert f"{build_base}/" in (ROOT / ".gitignore").read_text().splitlines()


def test_a_build_copy_of_the_package_is_not_listed_twice(tmp_path):
    source = ROOT / "medarc_inspect" / "mtsamples.py"
    for where in ("medarc_inspect", ".build/lib/medarc_inspect"):
        (tmp_path / where).mkdir(parents=True)
        shutil.copy(source, tmp_path / where / "mtsamples.py")
    names = [f"{t.file}@{t.name}" for t in list_tasks(root_dir=tmp_path)]
    assert names == [
        "medarc_inspect/mtsamples.py@mtsamples_procedures",
        "medarc_inspect/mtsamples.py@mtsamples_replicate",
    ]


def test_the_description_names_only_what_is_there():
    description = PYPROJECT["project"]["description"]
    assert "MTSamples" in description
    for absent in ("MedSafetyBench", "HealthBench", "MedAgentBench"):
        if absent in description:
            stem = absent.lower()
            assert (ROOT / "medarc_inspect" / f"{stem}.py").exists() or (ROOT / "medarc_inspect" / stem).is_dir()
