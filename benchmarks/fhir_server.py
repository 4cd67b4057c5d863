"""Benchmark the embedded FHIR server on the full-scale synthetic EHR, and against sekmet-fhir on 100k resources.

Prints load time, peak RSS, p50/p99 latency over HTTP of the graders' query
(`Observation?patient=…&code=…&_count=5000&_format=json`) and of typical agent queries, and session creation
time; then the same figures for our server and sekmet-fhir (PyPI 0.1.1) side by side on one ~100k-resource
dataset with identical queries, with the ratios. The last line is one JSON object.

Each server runs in its own child process (so RSS is its own); queries are sent from this process over
keep-alive HTTP and timed from request to fully read body. Every query is distinct and sent once (no warm
cache of a repeated query). Needs the MedAgentBench task files (set MEDARC_INSPECT_MIRROR offline).

    python benchmarks/fhir_server.py                   # full scale + sekmet comparison
    python benchmarks/fhir_server.py --scale 0.1 --skip-sekmet
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import http.client
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

FULL_SCALE_RESOURCES = 785_207
NOW_MINUS_24H = "2023-11-12T10:15:00%2B00:00"
NOW_MINUS_1H = "2023-11-07T21:47:00%2B00:00"


# ---- children: one server per process ------------------------------------------------------------------


def _peak_rss_mb() -> float:
    """This process's own high-water RSS (VmHWM; ru_maxrss would include the forking parent's)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


class _TreeRssSampler:
    """Peak summed RSS of this process and its children (the loader's worker processes), sampled."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval, self.peak_mb = interval, 0.0
        self._stop = threading.Event()

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.wait(self.interval):
            total = me.memory_info().rss
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    total += child.memory_info().rss
            self.peak_mb = max(self.peak_mb, total / 2**20)

    def __enter__(self) -> _TreeRssSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _report_and_wait(info: dict) -> None:
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            print(json.dumps({"rss_mb": _rss_mb(), "peak_rss_mb": _peak_rss_mb()}), flush=True)
        elif line.strip() == "quit":
            return


def child_ours(data_dir: str) -> None:
    started = time.perf_counter()
    from medarc_inspect.fhir.server import FhirServer
    from medarc_inspect.fhir.store import FhirStore

    imported = time.perf_counter()
    with _TreeRssSampler() as tree:
        store = FhirStore.from_dir(data_dir)
    load_s = time.perf_counter() - imported
    gc.collect()
    server = FhirServer(store)
    with server.running():
        n = 2000
        t0 = time.perf_counter()
        sessions = [server.create_session() for _ in range(n)]
        create_ms = (time.perf_counter() - t0) / n * 1000
        for s in sessions:
            server.drop_session(s)
        session = server.create_session()
        _report_and_wait(
            {
                "base": server.base_url_for(session),
                "resources": len(store),
                "import_s": imported - started,
                "load_s": load_s,
                "rss_after_load_mb": _rss_mb(),
                "load_tree_peak_rss_mb": tree.peak_mb,
                "session_create_ms": create_ms,
            }
        )


def child_sekmet(data_dir: str, work_dir: str) -> None:
    """sekmet-fhir as shipped, loaded through its Store API in one transaction (its fastest path)."""
    import logging

    import uvicorn
    from sekmet.config import Settings, SimulatorSettings, ValidationSettings
    from sekmet.main import create_app

    from medarc_inspect.fhir.loader import iter_raw

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        base_url=f"http://127.0.0.1:{port}/fhir",
        host="127.0.0.1",
        port=port,
        data_dir=work_dir,
        db_path=str(Path(work_dir) / "sekmet.db"),
        log_inbound=False,
        simulator=SimulatorSettings(enabled=False),
        validation=ValidationSettings(inbound="off"),
    )
    app = create_app(settings)
    logging.getLogger().setLevel(logging.WARNING)
    store = app.state.ctx.store
    store.listeners = []  # no subscription/simulator work per loaded resource
    t0 = time.perf_counter()
    n = 0
    with store.transaction():
        for res, _, _ in iter_raw(data_dir):
            store.create(res, origin="internal", keep_id=True)
            n += 1
    load_s = time.perf_counter() - t0
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    _report_and_wait(
        {
            "base": f"http://127.0.0.1:{port}/fhir/",
            "resources": n,
            "load_s": load_s,
            "rss_after_load_mb": _rss_mb(),
        }
    )
    server.should_exit = True
    thread.join(30)


# ---- parent ---------------------------------------------------------------------------------------


class Child:
    def __init__(self, kind: str, data_dir: Path, work_dir: Path) -> None:
        log = (work_dir / f"{kind}.stderr").open("w")
        cmd = [sys.executable, __file__, "--child", kind, str(data_dir), str(work_dir)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
        self.log_path = work_dir / f"{kind}.stderr"
        self.info = self._read()

    def _read(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"server child failed; see {self.log_path}:\n{self.log_path.read_text()[-2000:]}")
        return json.loads(line)

    def stats(self) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write("stats\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.proc.poll() is None and self.proc.stdin is not None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def build_queries(resources: list[dict], n: int, seed: int) -> tuple[list[str], list[str]]:
    """(grader queries, agent queries), distinct, drawn from the data so most return results."""
    rng = random.Random(seed)
    pairs = sorted(
        Counter(
            (r["subject"]["reference"].split("/")[-1], r["code"]["coding"][0]["code"])
            for r in resources
            if r["resourceType"] == "Observation"
        )
    )
    grader = [
        f"Observation?patient={p}&code={c}&_count=5000&_format=json" for p, c in rng.sample(pairs, min(n, len(pairs)))
    ]
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    templates = [
        lambda p, c: (
            f"Patient?family={p['name'][0]['family']}&given={p['name'][0]['given'][0]}&birthdate={p['birthDate']}"
        ),
        lambda p, c: f"Observation?patient={p['id']}&code={c}&date=ge{NOW_MINUS_24H}&_format=json",
        lambda p, c: f"Observation?patient={p['id']}&category=vital-signs&date=ge{NOW_MINUS_1H}&_format=json",
        lambda p, c: f"MedicationRequest?patient={p['id']}&_count=200&_format=json",
        lambda p, c: f"Procedure?patient={p['id']}&date=ge2022-11-07&_format=json",
        lambda p, c: f"Condition?patient={p['id']}&_count=200&_format=json",
    ]
    codes = sorted({c for _, c in pairs})
    agent = []
    for i in range(n):
        p = patients[rng.randrange(len(patients))]
        agent.append(templates[i % len(templates)](p, rng.choice(codes)))
    return grader, list(dict.fromkeys(agent))


def run_queries(base: str, queries: list[str]) -> tuple[list[float], list[int | None], int]:
    """Latencies (ms), bundle totals and the number of non-200 answers (one keep-alive connection).

    The stdlib client keeps the client's own overhead (which both servers pay) small.
    """
    url = urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    latencies, totals, errors = [], [], 0
    try:
        for q in ["metadata", *queries]:
            t0 = time.perf_counter()
            conn.request("GET", url.path + q, headers={"Accept": "application/fhir+json"})
            response = conn.getresponse()
            body = response.read()
            elapsed = (time.perf_counter() - t0) * 1000
            if q == "metadata":
                continue
            latencies.append(elapsed)
            if response.status != 200:
                errors += 1
                totals.append(None)
            else:
                totals.append(json.loads(body).get("total"))
    finally:
        conn.close()
    return latencies, totals, errors


def pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def measure(kind: str, data_dir: Path, work: Path, grader: list[str], agent: list[str]) -> dict:
    child = Child(kind, data_dir, work)
    try:
        g_lat, g_tot, g_err = run_queries(child.info["base"], grader)
        a_lat, a_tot, a_err = run_queries(child.info["base"], agent)
        stats = child.stats()
    finally:
        child.close()
    return {
        **child.info,
        **stats,
        "grader_p50_ms": pct(g_lat, 50),
        "grader_p99_ms": pct(g_lat, 99),
        "agent_p50_ms": pct(a_lat, 50),
        "agent_p99_ms": pct(a_lat, 99),
        "errors": g_err + a_err,
        "totals": g_tot + a_tot,
    }


def make_dataset(scale: float, seed: int, out: Path, n_queries: int) -> tuple[int, list[str], list[str]]:
    from medarc_inspect.medagentbench.synthetic import build_synthetic_ehr, write_ndjson

    ehr = build_synthetic_ehr(seed=seed, scale=scale)
    write_ndjson(ehr.resources, out)
    grader, agent = build_queries(ehr.resources, n_queries, seed)
    count = len(ehr.resources)
    del ehr
    gc.collect()
    return count, grader, agent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="synthetic EHR scale for the main run (1.0 = full)")
    parser.add_argument("--compare-resources", type=int, default=100_000, help="dataset size for the sekmet run")
    parser.add_argument("--queries", type=int, default=300, help="distinct queries per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-sekmet", action="store_true")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "DATA", "WORK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, data, work = args.child
        child_ours(data) if kind == "ours" else child_sekmet(data, work)
        return

    with tempfile.TemporaryDirectory(prefix="fhir-bench-") as tmp:
        work = Path(tmp)
        print(f"generating the synthetic EHR at scale {args.scale} ...", flush=True)
        full_n, grader, agent = make_dataset(args.scale, args.seed, work / "full", args.queries)
        full = measure("ours", work / "full", work, grader, agent)
        rows = [("full", "ours", full)]
        result = {
            "full_resources": full["resources"],
            "full_load_s": round(full["load_s"], 2),
            "full_rss_mb": round(full["peak_rss_mb"], 1),
            "full_load_tree_peak_rss_mb": round(full["load_tree_peak_rss_mb"], 1),
            "p50_ms": round(full["grader_p50_ms"], 3),
            "p99_ms": round(full["grader_p99_ms"], 3),
            "agent_p50_ms": round(full["agent_p50_ms"], 3),
            "agent_p99_ms": round(full["agent_p99_ms"], 3),
            "session_create_ms": round(full["session_create_ms"], 5),
            "errors": full["errors"],
        }
        if not args.skip_sekmet:
            scale = args.compare_resources / FULL_SCALE_RESOURCES
            print(f"generating the comparison dataset (~{args.compare_resources} resources) ...", flush=True)
            _, grader_c, agent_c = make_dataset(scale, args.seed, work / "compare", args.queries)
            ours = measure("ours", work / "compare", work, grader_c, agent_c)
            print("loading sekmet-fhir (slow) ...", flush=True)
            sekmet = measure("sekmet", work / "compare", work, grader_c, agent_c)
            rows += [("compare", "ours", ours), ("compare", "sekmet", sekmet)]
            agree = sum(a == b for a, b in zip(ours["totals"], sekmet["totals"], strict=True))
            g_ratio = sekmet["grader_p50_ms"] / ours["grader_p50_ms"]
            a_ratio = sekmet["agent_p50_ms"] / ours["agent_p50_ms"]
            result.update(
                compare_resources=ours["resources"],
                sekmet_load_s=round(sekmet["load_s"], 2),
                sekmet_rss_mb=round(sekmet["peak_rss_mb"], 1),
                sekmet_p50_ms=round(sekmet["grader_p50_ms"], 3),
                sekmet_agent_p50_ms=round(sekmet["agent_p50_ms"], 3),
                ours_compare_load_s=round(ours["load_s"], 3),
                ours_compare_p50_ms=round(ours["grader_p50_ms"], 3),
                speedup_load_vs_sekmet=round(sekmet["load_s"] / ours["load_s"], 1),
                speedup_query_vs_sekmet=round(min(g_ratio, a_ratio), 1),
                speedup_grader_query_vs_sekmet=round(g_ratio, 1),
                speedup_agent_query_vs_sekmet=round(a_ratio, 1),
                totals_agree=f"{agree}/{len(ours['totals'])}",
                sekmet_errors=sekmet["errors"],
            )
        print()
        header = (
            f"{'dataset':8} {'server':7} {'resources':>9} {'load s':>8} {'peak RSS MB':>11} {'grader p50':>10} "
            f"{'p99 ms':>8} {'agent p50':>9} {'p99 ms':>8} {'errors':>6}"
        )
        print(header)
        print("-" * len(header))
        for dataset, name, r in rows:
            print(
                f"{dataset:8} {name:7} {r['resources']:>9} {r['load_s']:>8.2f} {r['peak_rss_mb']:>11.0f} "
                f"{r['grader_p50_ms']:>10.2f} {r['grader_p99_ms']:>8.2f} {r['agent_p50_ms']:>9.2f} "
                f"{r['agent_p99_ms']:>8.2f} {r['errors']:>6}"
            )
        print(
            f"\nfull scale: server process peak RSS {full['peak_rss_mb']:.0f} MB; during loading, server plus its "
            f"parse workers peaked at {full['load_tree_peak_rss_mb']:.0f} MB summed"
        )
        print(f"session creation: {full['session_create_ms'] * 1000:.1f} µs per session (in-process, O(1))")
        print(f"queries: {len(grader)} grader + {len(agent)} agent per run, each distinct, sent once over HTTP")
        if not args.skip_sekmet:
            print(
                f"sekmet vs ours on {result['compare_resources']} resources: load {result['speedup_load_vs_sekmet']}x, "
                f"grader query {result['speedup_grader_query_vs_sekmet']}x, agent queries "
                f"{result['speedup_agent_query_vs_sekmet']}x; bundle totals agree on {result['totals_agree']}"
            )
        print(json.dumps(result))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
