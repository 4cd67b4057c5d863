"""fetch_pinned / fetch_all: cache, mirror, offline mode, retries, checksums, atomic writes, progress."""

import urllib.parse
from pathlib import Path

import httpx
import pytest
from data_fakes import FakeNetwork, RecordedSleeps, files_under, no_network, serve, sha

import medarc_inspect.data.fetch as fetch_module
from medarc_inspect.data import (
    ChecksumMismatchError,
    DataError,
    DataUnavailableError,
    PinnedFile,
    cache_dir,
    fetch_all,
    fetch_pinned,
    load_manifest,
)

URL = "https://example.org/repo/abc123/notes/Report%20%232.txt"
BODY = b"Plan: rest and fluids.\n"


def put(root: Path, relative: str, body: bytes) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path


def test_download_lands_in_cache_under_decoded_path_and_second_call_uses_cache(sleeps: RecordedSleeps):
    network = FakeNetwork(serve({URL: BODY}))
    path = fetch_pinned(URL, sha(BODY), client=network.client(), retry=sleeps.policy())
    assert path == cache_dir() / "example.org/repo/abc123/notes/Report #2.txt"
    assert path.read_bytes() == BODY
    assert network.requests == [URL]

    offline_network = FakeNetwork(no_network)
    assert fetch_pinned(URL, sha(BODY), client=offline_network.client()) == path
    assert offline_network.requests == []


def test_download_with_wrong_hash_names_everything_and_leaves_nothing(sleeps: RecordedSleeps):
    network = FakeNetwork(serve({URL: b"tampered"}))
    with pytest.raises(ChecksumMismatchError) as caught:
        fetch_pinned(URL, sha(BODY), client=network.client(), retry=sleeps.policy())
    message = str(caught.value)
    target = cache_dir() / "example.org/repo/abc123/notes/Report #2.txt"
    for part in (URL, sha(BODY), sha(b"tampered"), str(target)):
        assert part in message
    assert files_under(cache_dir()) == []
    assert len(network.requests) == 1 and sleeps.delays == []


def test_corrupted_cache_file_is_reported_with_its_path():
    cached = put(cache_dir(), "example.org/repo/abc123/notes/Report #2.txt", b"bit rot")
    with pytest.raises(ChecksumMismatchError) as caught:
        fetch_pinned(URL, sha(BODY), client=FakeNetwork(no_network).client())
    message = str(caught.value)
    for part in (URL, str(cached), sha(BODY), sha(b"bit rot"), "delete"):
        assert part in message


def test_mirror_hit_needs_no_network_and_is_not_copied(tmp_path, monkeypatch):
    mirrored = put(tmp_path / "mirror", "example.org/repo/abc123/notes/Report #2.txt", BODY)
    monkeypatch.setenv("MEDARC_INSPECT_MIRROR", str(tmp_path / "mirror"))
    network = FakeNetwork(no_network)
    assert fetch_pinned(URL, sha(BODY), client=network.client()) == mirrored
    assert network.requests == []
    assert files_under(cache_dir()) == []


def test_cache_wins_over_mirror(tmp_path, monkeypatch):
    cached = put(cache_dir(), "example.org/repo/abc123/notes/Report #2.txt", BODY)
    put(tmp_path / "mirror", "example.org/repo/abc123/notes/Report #2.txt", BODY)
    monkeypatch.setenv("MEDARC_INSPECT_MIRROR", str(tmp_path / "mirror"))
    assert fetch_pinned(URL, sha(BODY), client=FakeNetwork(no_network).client()) == cached


def test_mirror_file_with_wrong_hash_is_an_error_naming_the_mirror_path(tmp_path, monkeypatch):
    mirrored = put(tmp_path / "mirror", "example.org/repo/abc123/notes/Report #2.txt", b"other")
    monkeypatch.setenv("MEDARC_INSPECT_MIRROR", str(tmp_path / "mirror"))
    network = FakeNetwork(no_network)
    with pytest.raises(ChecksumMismatchError) as caught:
        fetch_pinned(URL, sha(BODY), client=network.client())
    for part in (URL, str(mirrored), sha(BODY), sha(b"other")):
        assert part in str(caught.value)
    assert network.requests == []


def test_offline_mode_lists_every_missing_file_once_without_network(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDARC_INSPECT_OFFLINE", "1")
    monkeypatch.setenv("MEDARC_INSPECT_MIRROR", str(tmp_path))
    put(tmp_path, "example.org/f/0.txt", b"0")
    files = [PinnedFile(f"https://example.org/f/{i}.txt", sha(str(i).encode())) for i in range(3)]
    network = FakeNetwork(no_network)
    with pytest.raises(DataUnavailableError) as caught:
        fetch_all(files, label="notes", client=network.client())
    message = str(caught.value)
    assert "2 pinned notes are neither cached nor mirrored" in message
    assert files[1].url in message and files[2].url in message and files[0].url not in message
    for hint in ("MEDARC_INSPECT_MIRROR", "<host>/<path>", "unset MEDARC_INSPECT_OFFLINE", str(cache_dir())):
        assert hint in message
    assert network.requests == []


def test_offline_message_truncates_long_lists(monkeypatch):
    monkeypatch.setenv("MEDARC_INSPECT_OFFLINE", "true")
    files = [PinnedFile(f"https://example.org/f/{i:02}.txt", sha(b"x")) for i in range(25)]
    with pytest.raises(DataUnavailableError) as caught:
        fetch_all(files, client=FakeNetwork(no_network).client())
    message = str(caught.value)
    assert "25 pinned files" in message and "... and 20 more" in message
    assert files[4].url in message and files[5].url not in message
    assert "no mirror (MEDARC_INSPECT_MIRROR is not set)" in message


def test_transient_errors_are_retried_with_backoff(sleeps: RecordedSleeps):
    script = iter(["connect", "503", "429", "ok"])

    def handler(request: httpx.Request) -> httpx.Response:
        step = next(script)
        if step == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        if step == "503":
            return httpx.Response(503)
        if step == "429":
            return httpx.Response(429, headers={"Retry-After": "7"})
        return httpx.Response(200, content=BODY)

    network = FakeNetwork(handler)
    path = fetch_pinned(URL, sha(BODY), client=network.client(), retry=sleeps.policy())
    assert path.read_bytes() == BODY
    assert len(network.requests) == 4
    assert sleeps.delays == [1.0, 2.0, 7.0]  # exponential, and Retry-After honoured


def test_retries_are_bounded_and_the_error_says_what_to_do(sleeps: RecordedSleeps):
    network = FakeNetwork(lambda request: httpx.Response(502))
    with pytest.raises(DataUnavailableError) as caught:
        fetch_pinned(URL, sha(BODY), client=network.client(), retry=sleeps.policy(attempts=3))
    assert len(network.requests) == 3 and sleeps.delays == [1.0, 2.0]
    message = str(caught.value)
    assert URL in message and "after 3 attempts" in message and "HTTP 502" in message
    assert "MEDARC_INSPECT_MIRROR" in message


def test_404_is_not_retried(sleeps: RecordedSleeps):
    network = FakeNetwork(serve({}))
    with pytest.raises(DataError) as caught:
        fetch_pinned(URL, sha(BODY), client=network.client(), retry=sleeps.policy())
    assert not isinstance(caught.value, DataUnavailableError)
    assert "HTTP 404" in str(caught.value) and URL in str(caught.value)
    assert len(network.requests) == 1 and sleeps.delays == []


class BreaksMidway(httpx.SyncByteStream):
    def __iter__(self):
        yield BODY[:5]
        raise httpx.ReadError("connection reset")


def test_interrupted_download_leaves_no_partial_file_then_retry_succeeds(sleeps: RecordedSleeps):
    attempts = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) == 1:
            return httpx.Response(200, stream=BreaksMidway())
        assert files_under(cache_dir()) == []  # nothing left behind by the broken attempt
        return httpx.Response(200, content=BODY)

    path = fetch_pinned(URL, sha(BODY), client=FakeNetwork(handler).client(), retry=sleeps.policy())
    assert path.read_bytes() == BODY and len(attempts) == 2
    assert files_under(cache_dir()) == [path]


def test_failed_download_leaves_no_file(sleeps: RecordedSleeps):
    network = FakeNetwork(lambda request: httpx.Response(200, stream=BreaksMidway()))
    with pytest.raises(DataUnavailableError):
        fetch_pinned(URL, sha(BODY), client=network.client(), retry=sleeps.policy(attempts=2))
    assert files_under(cache_dir()) == []


def test_fetch_all_keeps_order_mixes_sources_and_dedups(tmp_path, monkeypatch, sleeps, capsys):
    bodies = {f"https://example.org/d/{name}.txt": name.encode() for name in ("a", "b", "c", "d")}
    put(cache_dir(), "example.org/d/b.txt", b"b")
    put(tmp_path, "example.org/d/c.txt", b"c")
    monkeypatch.setenv("MEDARC_INSPECT_MIRROR", str(tmp_path))
    created = []
    monkeypatch.setattr(fetch_module, "Progress", lambda *a, **k: created.append(1))
    network = FakeNetwork(serve(bodies))
    order = ["d", "c", "a", "b", "d"]
    files = [PinnedFile(f"https://example.org/d/{n}.txt", sha(n.encode())) for n in order]
    paths = fetch_all(files, client=network.client(), retry=sleeps.policy())
    assert [path.read_bytes().decode() for path in paths] == order
    assert paths[1] == tmp_path / "example.org/d/c.txt"
    assert sorted(network.requests) == ["https://example.org/d/a.txt", "https://example.org/d/d.txt"]
    assert created == []  # two downloads: no progress display
    assert capsys.readouterr().out == ""


class FakeProgress:
    instances: list["FakeProgress"] = []

    def __init__(self, *columns, console, transient):
        self.stderr = console.stderr
        self.advanced = 0
        FakeProgress.instances.append(self)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def add_task(self, description, total):
        self.description, self.total = description, total
        return 0

    def advance(self, task):
        self.advanced += 1


def test_many_downloads_show_progress_on_stderr(monkeypatch, sleeps, capsys):
    FakeProgress.instances = []
    monkeypatch.setattr(fetch_module, "Progress", FakeProgress)
    bodies = {f"https://example.org/m/{i}.txt": str(i).encode() for i in range(20)}
    files = [PinnedFile(url, sha(body)) for url, body in bodies.items()]
    network = FakeNetwork(serve(bodies))
    paths = fetch_all(files, label="notes", client=network.client(), retry=sleeps.policy())
    assert [path.read_bytes() for path in paths] == list(bodies.values())
    assert len(network.requests) == 20
    (progress,) = FakeProgress.instances
    assert progress.stderr and progress.total == 20 and progress.advanced == 20
    assert "notes" in progress.description
    assert capsys.readouterr().out == ""


def test_real_progress_display_stays_off_stdout(sleeps, capsys):
    bodies = {f"https://example.org/r/{i}.txt": str(i).encode() for i in range(12)}
    files = [PinnedFile(url, sha(body)) for url, body in bodies.items()]
    paths = fetch_all(files, client=FakeNetwork(serve(bodies)).client(), retry=sleeps.policy())
    assert len(paths) == 12 and capsys.readouterr().out == ""


def test_one_failure_among_many_reports_it_and_what_was_left(sleeps):
    bodies = {f"https://example.org/p/{i}.txt": str(i).encode() for i in range(3)}
    files = [PinnedFile(url, sha(body)) for url, body in bodies.items()]
    files.append(PinnedFile("https://example.org/p/gone.txt", sha(b"gone")))
    with pytest.raises(DataError) as caught:
        fetch_all(files, client=FakeNetwork(serve(bodies)).client(), retry=sleeps.policy())
    message = str(caught.value)
    assert "https://example.org/p/gone.txt" in message and "HTTP 404" in message
    assert "were not downloaded" in message and "running again resumes" in message


def test_conflicting_pins_for_one_url_are_rejected():
    files = [PinnedFile(URL, sha(b"one")), PinnedFile(URL, sha(b"two"))]
    with pytest.raises(DataError, match="pinned twice"):
        fetch_all(files, client=FakeNetwork(no_network).client())


def test_pinned_file_validates_hash_and_normalises_case():
    assert PinnedFile(URL, sha(BODY).upper()).sha256 == sha(BODY)
    with pytest.raises(DataError, match="not a sha256"):
        PinnedFile(URL, "abc")
    with pytest.raises(DataError):
        fetch_all([(URL, sha(BODY))])  # type: ignore[list-item]


def test_real_mirror_file_with_hash_in_its_name(shared_mirror, monkeypatch):
    monkeypatch.setenv("MEDARC_INSPECT_OFFLINE", "1")
    pin = "c4c252443fa9c52afb6960f53e51be278639bea2"
    name, digest = next((n, d) for n, d in load_manifest("mtsamples_procedure") if "#" in n)
    url = (
        f"https://raw.githubusercontent.com/raulista1997/benchmarkdata/{pin}/mtsample_procedure/"
        f"{urllib.parse.quote(name, safe='')}"
    )
    path = fetch_pinned(url, digest, client=FakeNetwork(no_network).client())
    assert path == shared_mirror / "raw.githubusercontent.com/raulista1997/benchmarkdata" / pin / (
        f"mtsample_procedure/{name}"
    )
    assert path.read_text(encoding="utf-8").startswith(name.removesuffix(".txt"))


def test_unwritable_cache_is_a_clear_error(monkeypatch, tmp_path, sleeps):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("MEDARC_INSPECT_CACHE_DIR", str(blocker))
    with pytest.raises(DataError) as caught:
        fetch_pinned(URL, sha(BODY), client=FakeNetwork(serve({URL: BODY})).client(), retry=sleeps.policy())
    assert URL in str(caught.value) and "MEDARC_INSPECT_CACHE_DIR" in str(caught.value)


def test_unexpected_worker_errors_propagate_unchanged(sleeps):
    def handler(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("bug in a transport")

    files = [PinnedFile(f"https://example.org/u/{i}.txt", sha(b"x")) for i in range(3)]
    with pytest.raises(RuntimeError, match="bug in a transport"):
        fetch_all(files, client=FakeNetwork(handler).client(), retry=sleeps.policy())


@pytest.mark.network
def test_real_download_from_github(tmp_path):
    pin = "c4c252443fa9c52afb6960f53e51be278639bea2"
    name, digest = load_manifest("mtsamples_procedure")[0]
    url = (
        f"https://raw.githubusercontent.com/raulista1997/benchmarkdata/{pin}/mtsample_procedure/"
        f"{urllib.parse.quote(name, safe='')}"
    )
    path = fetch_pinned(url, digest)
    assert path.is_relative_to(cache_dir())


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_every_transient_status_is_retried(sleeps: RecordedSleeps, status):
    script = iter([status, 200])
    network = FakeNetwork(lambda request: httpx.Response(next(script), content=BODY))
    path = fetch_pinned(URL, sha(BODY), client=network.client(), retry=sleeps.policy())
    assert path.read_bytes() == BODY and len(network.requests) == 2 and sleeps.delays == [1.0]


def test_retry_delays_are_capped(sleeps: RecordedSleeps):
    network = FakeNetwork(lambda request: httpx.Response(503, headers={"Retry-After": "999"}))
    with pytest.raises(DataUnavailableError, match="after 8 attempts"):
        fetch_pinned(URL, sha(BODY), client=network.client(), retry=sleeps.policy(attempts=8))
    assert sleeps.delays == [30.0] * 7  # Retry-After 999 is honoured only up to max_delay
    policy = sleeps.policy()
    assert [policy.delay(n) for n in range(1, 9)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
