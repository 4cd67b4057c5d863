"""Environment handling and URL -> local path mapping."""

from pathlib import Path

import platformdirs
import pytest

from medarc_inspect.data import DataError, cache_dir, is_offline, mirror_dir
from medarc_inspect.data.locations import local_path


def test_cache_dir_from_env_or_platform_default(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDARC_INSPECT_CACHE_DIR", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("MEDARC_INSPECT_CACHE_DIR")
    assert cache_dir() == Path(platformdirs.user_cache_dir("medarc_inspect"))


def test_mirror_dir_unset_set_and_invalid(monkeypatch, tmp_path):
    assert mirror_dir() is None
    monkeypatch.setenv("MEDARC_INSPECT_MIRROR", str(tmp_path))
    assert mirror_dir() == tmp_path
    monkeypatch.setenv("MEDARC_INSPECT_MIRROR", str(tmp_path / "absent"))
    with pytest.raises(DataError, match="not a directory"):
        mirror_dir()


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("TRUE", True), ("0", False), ("", False)])
def test_offline_switch(monkeypatch, value, expected):
    monkeypatch.setenv("MEDARC_INSPECT_OFFLINE", value)
    assert is_offline() is expected


def test_offline_switch_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv("MEDARC_INSPECT_OFFLINE", "maybe")
    with pytest.raises(DataError, match="MEDARC_INSPECT_OFFLINE"):
        is_offline()


def test_local_path_decodes_percent_escapes(tmp_path):
    url = "https://raw.githubusercontent.com/o/r/abc/dir/Vascular%20Surgery%20SOAP%20Note%20%232.txt"
    expected = tmp_path / "raw.githubusercontent.com/o/r/abc/dir/Vascular Surgery SOAP Note #2.txt"
    assert local_path(tmp_path, url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/a/../../etc/passwd",
        "https://example.org/a/%2e%2e/%2E%2E/x",
        "https://example.org/a/%2Fetc%2Fpasswd",
        "https://example.org/a//b",
        "https://example.org/",
        "https://example.org/a?version=2",
        "https://user@example.org/a",
        "ftp://example.org/a",
        "/local/file",
    ],
)
def test_unsafe_or_ambiguous_urls_are_rejected(tmp_path, url):
    with pytest.raises(DataError):
        local_path(tmp_path, url)


def test_a_relative_mirror_or_cache_is_resolved_against_the_launch_directory(tmp_path, monkeypatch):
    from medarc_inspect.data import locations

    (tmp_path / "launch" / "mirror").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.setattr(locations, "LAUNCH_DIR", tmp_path / "launch")
    monkeypatch.setenv("MEDARC_INSPECT_MIRROR", "mirror")
    monkeypatch.setenv("MEDARC_INSPECT_CACHE_DIR", "cache")
    monkeypatch.chdir(tmp_path / "elsewhere")  # as Inspect does when it loads a task file by path
    assert locations.mirror_dir() == tmp_path / "launch" / "mirror"
    assert locations.cache_dir() == tmp_path / "launch" / "cache"


def test_the_launch_directory_is_the_shell_one_when_known(tmp_path, monkeypatch):
    from medarc_inspect.data import locations

    monkeypatch.setenv("PWD", str(tmp_path))
    assert locations._launch_dir() == tmp_path
    monkeypatch.setenv("PWD", "relative/nonsense")
    assert locations._launch_dir() == Path.cwd()
