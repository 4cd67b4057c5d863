"""`medarc-inspect fhir serve` and `fhir export` (round trip against our own server)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fhir_fixtures import resources

from medarc_inspect.cli import main
from medarc_inspect.fhir.export import ExportError, export_server
from medarc_inspect.fhir.server import FhirServer
from medarc_inspect.fhir.store import FhirStore


def test_serve_prints_base_url_first(tmp_path: Path) -> None:
    (tmp_path / "data.ndjson").write_text("".join(json.dumps(r) + "\n" for r in resources()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "medarc_inspect.cli", "fhir", "serve", "--data", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:") and base.endswith("/fhir/"), base
        r = httpx.get(base + "metadata", timeout=30)
        assert r.status_code == 200 and r.json()["resourceType"] == "CapabilityStatement"
        assert httpx.get(base + "Patient?family=alv").json()["total"] == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_serve_reports_bad_data_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "bad.ndjson").write_text("{oops\n")
    assert main(["fhir", "serve", "--data", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "bad.ndjson:1" in err and "Traceback" not in err


def test_serve_refuses_non_loopback(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    (tmp_path / "data.ndjson").write_text(json.dumps(resources()[0]) + "\n")
    assert main(["fhir", "serve", "--data", str(tmp_path), "--host", "0.0.0.0"]) == 1
    assert "loopback" in capsys.readouterr().err


def test_export_round_trip(tmp_path: Path, store: FhirStore, capsys: pytest.CaptureFixture) -> None:
    server = FhirServer(store)
    with server.running():
        base = server.default_session.base_url
        server.default_session.create("Patient", {"resourceType": "Patient", "name": [{"family": "Written"}]})
        assert main(["fhir", "export", "--from", base, "--out", str(tmp_path), "--page-size", "3"]) == 0
    out = capsys.readouterr().out
    assert "Observation: 10" in out and "Patient: 6" in out
    reloaded = FhirStore.from_dir(tmp_path)
    assert reloaded.counts() == {**store.counts(), "Patient": 6}
    original = {(r["resourceType"], r["id"]): r for r in resources()}
    for rtype in ("Observation", "Procedure"):
        for line in (tmp_path / f"{rtype}.ndjson").read_text().splitlines():
            resource = json.loads(line)
            assert resource == original[(rtype, resource["id"])]


def test_export_refuses_foreign_next_links(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": {"resourceType": "Patient", "id": "p1"}}],
            "link": [{"relation": "next", "url": "http://evil.example/fhir?page=2"}],
        }
        return httpx.Response(200, json=bundle)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with pytest.raises(ExportError, match="another server"):
        export_server("http://localhost:8080/fhir/", tmp_path, ["Patient"], client=client)
    assert not (tmp_path / "Patient.ndjson").exists()


def test_export_reports_http_errors(tmp_path: Path) -> None:
    client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(500, text="boom")))
    with pytest.raises(ExportError, match="HTTP 500"):
        export_server("http://localhost:8080/fhir/", tmp_path, ["Patient"], client=client)


def test_cli_without_command_prints_help(capsys: pytest.CaptureFixture) -> None:
    assert main([]) == 2
    assert "fhir" in capsys.readouterr().out


# ---- export: all or nothing (issue 7 §5) ------------------------------------------------------------


def _bundle(entries: list[dict], next_url: str | None = None) -> dict:
    bundle: dict = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in entries]}
    if next_url:
        bundle["link"] = [{"relation": "next", "url": next_url}]
    return bundle


def _client(pages: dict[str, dict]) -> httpx.Client:
    """A mock server answering `pages[<query string>]` for any type."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.query.decode()])

    return httpx.Client(transport=httpx.MockTransport(handler))


FIRST = "_count=1000&_format=json"
BASE = "http://localhost:8080/fhir/"


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def test_export_writes_a_manifest_that_serve_checks(tmp_path: Path) -> None:
    out = tmp_path / "snap"
    pages = {FIRST: _bundle([{"resourceType": "Patient", "id": "p1"}, {"resourceType": "Patient", "id": "p2"}])}
    assert export_server(BASE, out, ["Patient"], client=_client(pages)) == {"Patient": 2}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["source"] == BASE and manifest["counts"] == {"Patient": 2} and manifest["exported_at"]
    assert FhirStore.from_dir(out).counts()["Patient"] == 2
    (out / "Patient.ndjson").write_text(json.dumps({"resourceType": "Patient", "id": "p1"}) + "\n")
    with pytest.raises(ValueError, match="manifest says 2"):
        FhirStore.from_dir(out)
    (out / "Stale.ndjson").write_text("")
    with pytest.raises(ValueError, match="unexpected: \\['Stale.ndjson'\\]"):
        FhirStore.from_dir(out)


def test_export_refuses_a_non_empty_out_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "snap"
    out.mkdir()
    (out / "Observation.ndjson").write_text(json.dumps({"resourceType": "Observation", "id": "old"}) + "\n")
    pages = {FIRST: _bundle([{"resourceType": "Patient", "id": "p1"}])}
    with pytest.raises(ExportError, match="not empty"):
        export_server(BASE, out, ["Patient"], client=_client(pages))
    export_server(BASE, out, ["Patient"], client=_client(pages), force=True)
    assert sorted(p.name for p in out.iterdir()) == ["Patient.ndjson", "manifest.json"]  # the old snapshot is gone
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("pages", "message"),
    [
        (
            {
                FIRST: _bundle([{"resourceType": "Patient", "id": "p1"}], BASE + "Patient?page=2"),
                "page=2": _bundle([{"resourceType": "Patient", "id": "p2"}], BASE + "Patient?page=2"),
            },
            "next link repeats",
        ),
        (
            {
                FIRST: _bundle([{"resourceType": "Patient", "id": "p1"}], BASE + "Patient?page=2"),
                "page=2": _bundle([{"resourceType": "Patient", "id": "p1"}], BASE + "Patient?page=3"),
                "page=3": _bundle([{"resourceType": "Patient", "id": "p1"}], BASE + "Patient?page=4"),
            },
            "same page twice",
        ),
        ({FIRST: _bundle([{"resourceType": "Patient"}])}, "no valid id"),
        ({FIRST: _bundle([{"resourceType": "Patient", "id": 5}])}, "no valid id"),
        ({FIRST: _bundle([{"resourceType": "Patient", "id": "../x"}])}, "no valid id"),
        ({FIRST: _bundle([{"resourceType": "Observation", "id": "o1"}])}, "not a Patient"),
    ],
)
def test_export_failures_leave_nothing(tmp_path: Path, pages: dict, message: str) -> None:
    out = tmp_path / "snap"
    with pytest.raises(ExportError, match=message):
        export_server(BASE, out, ["Patient"], client=_client(pages))
    assert not out.exists() and _leftovers(tmp_path) == []


def test_export_refuses_type_names_that_are_paths(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "snap"
    assert main(["fhir", "export", "--from", BASE, "--out", str(out), "--types", "../escaped"]) == 1
    assert "not a FHIR resource type name" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_interrupted_export_exits_non_zero_and_keeps_the_old_snapshot(
    tmp_path: Path, store: FhirStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from medarc_inspect.fhir import export

    out = tmp_path / "snap"
    out.mkdir()
    (out / "Patient.ndjson").write_text(json.dumps({"resourceType": "Patient", "id": "kept"}) + "\n")
    real_get = export._get_bundle
    calls = []

    def interrupted(http: httpx.Client, url: str) -> dict:
        calls.append(url)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_get(http, url)

    monkeypatch.setattr(export, "_get_bundle", interrupted)
    server = FhirServer(store)
    with server.running():
        argv = ["fhir", "export", "--from", server.default_session.base_url, "--out", str(out), "--force"]
        assert main([*argv, "--page-size", "2"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["Patient.ndjson"]
    assert "kept" in (out / "Patient.ndjson").read_text()
    assert _leftovers(tmp_path) == []


def test_serve_survives_a_closed_stdout(tmp_path: Path) -> None:
    (tmp_path / "data.ndjson").write_text("".join(json.dumps(r) + "\n" for r in resources()))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "medarc_inspect.cli", "fhir", "serve", "--data", str(tmp_path)]
    proc = subprocess.Popen([*command, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()  # like `| head -1` once it has its line: every print now fails with EPIPE
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/fhir/metadata", timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert r.status_code == 200
        time.sleep(0.3)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=30)
