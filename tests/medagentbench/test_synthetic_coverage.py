"""Every data condition of spec §6 occurs, checked by an independent re-implementation of the §3 rules.

This checker reads only the raw resources and the task files: it recomputes each task's grader inputs and
labels the §6 conditions they show, then (1) requires every condition to occur for tasks of its type and
(2) requires the manifest's expected answer/action to agree with the recomputed grader outcome.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from medarc_inspect.medagentbench.synthetic import SyntheticEHR, build_synthetic_ehr
from medarc_inspect.medagentbench.task_files import load_task_file

MIRROR = Path(__file__).resolve().parents[3] / "shared" / "mirror"
S = datetime.fromisoformat("2023-11-13T10:15:00+00:00")
DEFAULT_NOW = datetime.fromisoformat("2023-11-07T22:47:00+00:00")
HOUR, DAY = timedelta(hours=1), timedelta(days=1)

REQUIRED = {
    "v1/task2": {"bday_before_1113", "bday_on_1113", "bday_after_1113"},
    "v1/task4": {"no_mg", "only_before_w24", "one_in_w24", "several_in_w24_plus_older", "at_now_minus_24h"},
    "v1/task5": {"none_in_w24", "latest_2.1", "latest_1.9", "latest_1.5", "latest_1.2", "latest_1", "latest_0.8"},
    "v1/glu": {"older_none_in_w24", "one_in_w24", "several_noninteger_mean", "none_ever", "latest_older_24h"},
    "v1/task9": {"none", "eq_3.5", "above_3.5", "low_3.4", "low_3.1", "old_low_newer_normal"},
    "v1/task10": {"none", "before_boundary", "after_boundary", "pair_around_boundary"},
    "v2/task1": {"none", "before_cutoff", "after_cutoff", "period_only"},
    "v2/task2": {"none_with_stopped_heparin", "hep5k_only", "hep_5,000_plus_enoxaparin", "enoxaparin_only",
                 "apixaban_plus_warfarin", "heparin_flush"},
    "v2/task3": {"both_windows", "only_6_12h", "none_within_12h", "after_now", "on_edge"},
    "v2/task4": {"none", "le_48h", "gt_48h_active_sr", "gt_48h_completed_sr_only", "after_now"},
    "v2/task5": {"c641_no_c642", "c642_no_ct", "ct_gt_90d", "74177_le_90d"},
    "v2/task6": {"A", "near_miss_A_20d", "B", "mid_tsh_abnormal_ft4", "normal", "no_labs"},
    "v2/task7": {"no_qtc", "latest_500", "gt500_active_qt_med", "old_gt500_newer_normal"},
    "v2/task8": {"opioid_no_naloxone", "opioid_with_naloxone", "no_opioid", "only_stopped_opioid"},
    "v2/task9": {"none", "before_2023-01-09", "after_2023-01-09", "exactly_365d"},
    "v2/task10": {"none", "proc_only_old", "completed_mr_only_recent", "proc_and_mr", "2022-11-06_act",
                  "2022-11-07_no_action", "active_covid_mr"},
}  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    if not MIRROR.is_dir():
        pytest.skip(f"offline mirror not found at {MIRROR}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MEDARC_INSPECT_MIRROR", str(MIRROR))
        patch.setenv("MEDARC_INSPECT_CACHE_DIR", str(tmp_path_factory.mktemp("coverage-cache")))
        patch.setenv("MEDARC_INSPECT_OFFLINE", "1")
        ehr = build_synthetic_ehr(seed=0, scale=0.0)
        files = {
            "v1": load_task_file("v1", "test_data_v2.json"),
            "v2": load_task_file("v2", "new_patient_tasks.json"),
            "v2/new_tasks": load_task_file("v2", "new_tasks.json"),
        }
    return ehr, files


# ------------------------------------------------------------------------------------ raw data access


def _by_patient(ehr: SyntheticEHR) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = defaultdict(list)
    for resource in ehr.resources:
        if resource["resourceType"] != "Patient":
            out[resource["subject"]["reference"].split("/")[1]].append(resource)
    return out


def _codes(resource: dict) -> set[str]:
    return {coding["code"] for coding in resource.get("code", {}).get("coding", [])}


def _obs(records: list[dict], code: str) -> list[tuple[datetime, float, str, str]]:
    rows = [
        (
            datetime.fromisoformat(r["effectiveDateTime"]),
            r["valueQuantity"]["value"],
            r["effectiveDateTime"],
            r["meta"]["lastUpdated"],
        )
        for r in records
        if r["resourceType"] == "Observation" and code in _codes(r)
    ]
    rows.sort(key=lambda row: row[0])
    return rows


def _proc_times(records: list[dict], codes: set[str]) -> list[tuple[datetime, dict]]:
    rows = []
    for r in records:
        if r["resourceType"] == "Procedure" and _codes(r) & codes:
            stamp = (
                r.get("performedDateTime")
                or r.get("performedPeriod", {}).get("end")
                or r.get("performedPeriod", {}).get("start")
            )
            rows.append((datetime.fromisoformat(stamp), r))
    rows.sort(key=lambda row: row[0])
    return rows


def _meds(records: list[dict], status: str | None = None) -> list[tuple[str, str]]:
    return [
        (r["medicationCodeableConcept"]["text"].lower(), r["status"])
        for r in records
        if r["resourceType"] == "MedicationRequest" and (status is None or r["status"] == status)
    ]


def _has(text: str, words: tuple[str, ...]) -> bool:
    return any(word in text for word in words)


# ----------------------------------------------------------------------------- independent grader rules


def check_v1(kind: str, records: list[dict], entry: dict) -> set[str]:
    """Labels of the §6 conditions this task shows; asserts the manifest agrees with the §3 rules."""
    labels: set[str] = set()
    if kind in ("task4", "task5"):
        mg = _obs(records, "MG")
        window = [row for row in mg if row[0] >= S - 24 * HOUR]
        latest = window[-1][1] if window else None
        if kind == "task4":
            assert entry["expected_answer"] == [latest if latest is not None else -1]
            assert entry["expected_action"] == "none"
            labels.add(
                "no_mg"
                if not mg
                else "only_before_w24"
                if not window
                else "one_in_w24"
                if len(window) == 1
                else "several_in_w24_plus_older"
                if len(window) < len(mg)
                else "x"
            )
            if any(row[0] == S - 24 * HOUR for row in window):
                labels.add("at_now_minus_24h")
        else:
            acts = latest is not None and latest <= 1.9
            assert (entry["expected_action"] != "none") == acts
            labels.add("none_in_w24" if latest is None else f"latest_{latest:g}")
            if latest is not None:
                assert entry["expected_answer"] == [latest]
            if acts:
                dose = 4 if latest < 1 else 2 if latest < 1.5 else 1
                assert entry["params"]["dose_g"] == dose == entry["params"]["rate_h"]
    elif kind in ("task6", "task7"):
        glu = _obs(records, "GLU")
        window = [row[1] for row in glu if row[0] >= S - 24 * HOUR]
        if kind == "task6":
            ref = sum(window) / len(window) if window else -1
            assert len(entry["expected_answer"]) == 1 and abs(entry["expected_answer"][0] - ref) < 1e-9
            if not glu:
                labels.add("none_ever")
            elif not window:
                labels.add("older_none_in_w24")
            elif len(window) == 1:
                labels.add("one_in_w24")
            elif ref != int(ref):
                labels.add("several_noninteger_mean")
        else:
            assert entry["expected_answer"] == [glu[-1][1] if glu else -1]
            if glu and glu[-1][0] < S - 24 * HOUR:
                labels.add("latest_older_24h")
            if not glu:
                labels.add("none_ever")
    elif kind == "task9":
        k = _obs(records, "K")
        value = k[-1][1] if k else None
        acts = value is not None and value < 3.5
        assert (entry["expected_action"] != "none") == acts
        assert entry["expected_answer"] == [value if value is not None else -1]
        if acts:
            assert abs(entry["params"]["dose_meq"] - (3.5 - value) / 0.1 * 10) <= 0.1
            labels.add(f"low_{value:g}")
        elif value is None:
            labels.add("none")
        else:
            labels.add("eq_3.5" if value == 3.5 else "above_3.5")
            if any(row[1] < 3.5 for row in k):
                labels.add("old_low_newer_normal")
    elif kind == "task10":
        a1c = _obs(records, "A1C")
        boundary = datetime.fromisoformat("2022-11-13T10:15:00+00:00")
        ref = [a1c[-1][1], a1c[-1][2]] if a1c else [-1]
        assert entry["expected_answer"] == ref
        acts = not a1c or a1c[-1][0] < boundary
        assert (entry["expected_action"] != "none") == acts
        labels.add("none" if not a1c else "before_boundary" if acts else "after_boundary")
        near = [row[0] for row in a1c if abs(row[0] - boundary) <= HOUR]
        if any(t < boundary for t in near) and any(t >= boundary for t in near):
            labels.add("pair_around_boundary")
    elif kind in ("task3", "task8"):
        assert entry["expected_action"] != "none"
    return labels


def check_v2(kind: str, records: list[dict], entry: dict, now: datetime) -> set[str]:
    labels: set[str] = set()
    act: bool
    if kind == "task1":
        rows = _proc_times(records, {"IMGCT0491", "IMGIL0001"})
        act = not rows or rows[-1][0] < now - 365 * DAY
        labels.add("none" if not rows else "before_cutoff" if act else "after_cutoff")
        if rows and "performedDateTime" not in rows[-1][1]:
            labels.add("period_only")
    elif kind == "task2":
        active = [text for text, _ in _meds(records, "active")]
        anticoag = [
            t
            for t in active
            if _has(
                t,
                (
                    "heparin",
                    "enoxaparin",
                    "dalteparin",
                    "fondaparinux",
                    "apixaban",
                    "rivaroxaban",
                    "dabigatran",
                    "warfarin",
                ),
            )
        ]
        hep = [t for t in anticoag if "heparin" in t and ("5000" in t or "5,000" in t)]
        create, stop = not hep, len(anticoag) >= 2
        assert entry["params"]["create"] == create and bool(entry["params"]["stop_ids"]) == stop
        act = create or stop
        if not anticoag and any("heparin" in t for t, s in _meds(records) if s == "stopped"):
            labels.add("none_with_stopped_heparin")
        if len(anticoag) == 1 and hep:
            labels.add("hep5k_only")
        if any("5,000" in t for t in hep) and any("enoxaparin" in t for t in anticoag):
            labels.add("hep_5,000_plus_enoxaparin")
        if len(anticoag) == 1 and "enoxaparin" in anticoag[0]:
            labels.add("enoxaparin_only")
        if any("apixaban" in t for t in anticoag) and any("warfarin" in t for t in anticoag):
            labels.add("apixaban_plus_warfarin")
        if anticoag and not hep and all("heparin" in t for t in anticoag):
            labels.add("heparin_flush")
    elif kind == "task3":
        hr = _obs(records, "HEARTRATE")
        six = [v for t, v, _, _ in hr if now - 6 * HOUR <= t <= now]
        twelve = [v for t, v, _, _ in hr if now - 12 * HOUR <= t <= now]
        ref = [sum(six) / len(six) if six else None, sum(twelve) / len(twelve) if twelve else None]
        for got, want in zip(entry["expected_answer"], ref, strict=True):
            assert (got == -1) if want is None else abs(got - want) <= 1e-9
        act = False
        labels.add("both_windows" if six else "only_6_12h" if twelve else "none_within_12h")
        if any(t > now for t, *_ in hr):
            labels.add("after_now")
        if any(t in (now, now - 6 * HOUR, now - 12 * HOUR) for t, *_ in hr):
            labels.add("on_edge")
    elif kind == "task4":
        rows = _proc_times(records, {"NUR1373"})
        orders = [r["status"] for r in records if r["resourceType"] == "ServiceRequest" and "NUR1373" in _codes(r)]
        act = bool(rows) and now - rows[-1][0] > 48 * HOUR and "active" not in orders
        if not rows:
            labels.add("none")
        elif rows[-1][0] > now:
            labels.add("after_now")
        elif now - rows[-1][0] <= 48 * HOUR:
            labels.add("le_48h")
        elif "active" in orders:
            labels.add("gt_48h_active_sr")
        elif "completed" in orders:
            labels.add("gt_48h_completed_sr_only")
    elif kind == "task5":
        dx = [r for r in records if r["resourceType"] == "Condition" and "C64.2" in _codes(r)]
        other = [r for r in records if r["resourceType"] == "Condition" and "C64.1" in _codes(r)]
        rows = _proc_times(records, {"IMGCT0491", "IMGIL0001", "74177"})
        act = bool(dx) and (not rows or now - rows[-1][0] > 90 * DAY)
        if not dx and other:
            labels.add("c641_no_c642")
        elif dx and not rows:
            labels.add("c642_no_ct")
        elif dx and act:
            labels.add("ct_gt_90d")
        elif dx and "74177" in _codes(rows[-1][1]):
            labels.add("74177_le_90d")
    elif kind == "task6":
        tsh, ft4 = _obs(records, "TSH"), _obs(records, "FT4")
        high = [t for t, v, *_ in tsh if v > 10]
        a = any((b - c).days >= 30 for b in high for c in high)
        b = bool(tsh and ft4) and 4.5 <= tsh[-1][1] <= 10 and 0.8 <= ft4[-1][1] <= 1.8
        act = a or b
        assert ("levothyroxine" in entry["expected_action"]) == a
        if a:
            labels.add("A")
        elif b:
            labels.add("B")
        elif len(high) >= 2 and max(high) - min(high) == 20 * DAY:
            labels.add("near_miss_A_20d")
        elif tsh and 4.5 <= tsh[-1][1] <= 10:
            labels.add("mid_tsh_abnormal_ft4")
        elif tsh or ft4:
            labels.add("normal")
        else:
            labels.add("no_labs")
    elif kind == "task7":
        qtc = _obs(records, "QTCINTERVAL")
        latest = max(qtc, key=lambda row: row[3])[1] if qtc else None
        act = latest is not None and latest > 500
        qt_meds = [t for t, _ in _meds(records, "active") if _has(t, ("ondansetron", "haloperidol"))]
        if act:
            assert entry["params"]["stop_ids"]
        labels.add("no_qtc" if latest is None else "latest_500" if latest == 500 else "x")
        if act and qt_meds:
            labels.add("gt500_active_qt_med")
        if latest is not None and latest <= 500 and any(v > 500 for _, v, *_ in qtc):
            labels.add("old_gt500_newer_normal")
    elif kind == "task8":
        opioid_words = ("hydromorphone", "oxycodone", "fentanyl", "hydrocodone", "morphine")
        active = [t for t, _ in _meds(records, "active")]
        opioid = any(_has(t, opioid_words) for t in active)
        naloxone = any(_has(t, ("naloxone", "narcan")) for t in active)
        act = opioid and not naloxone
        if opioid:
            labels.add("opioid_with_naloxone" if naloxone else "opioid_no_naloxone")
        elif any(_has(t, opioid_words) for t, _ in _meds(records)):
            labels.add("only_stopped_opioid")
        else:
            labels.add("no_opioid")
    elif kind == "task9":
        rows = _proc_times(records, {"90686"})
        act = not rows or now - rows[-1][0] > 365 * DAY
        if not rows:
            labels.add("none")
        elif now - rows[-1][0] == 365 * DAY:
            labels.add("exactly_365d")
        else:
            edge = datetime.fromisoformat("2023-01-09T00:00:00+00:00")
            labels.add("before_2023-01-09" if rows[-1][0] < edge else "after_2023-01-09")
    elif kind == "task10":
        procs = [t for t, _ in _proc_times(records, {"COVIDVACCINE"})]
        mrs = [
            r
            for r in records
            if r["resourceType"] == "MedicationRequest"
            and "covid-19 vac" in r["medicationCodeableConcept"]["text"].lower()
        ]
        done = [datetime.fromisoformat(r["authoredOn"]) for r in mrs if r["status"] == "completed"]
        last = max(procs + done, default=None)
        act = last is None or (now.date() - last.date()).days > 365
        if last is None:
            labels.add("none")
        elif procs and not done and act:
            labels.add("proc_only_old")
        elif done and not procs and not act:
            labels.add("completed_mr_only_recent")
        elif procs and done:
            labels.add("proc_and_mr")
        if last is not None and last.date() == date(2022, 11, 6) and act:
            labels.add("2022-11-06_act")
        if last is not None and last.date() == date(2022, 11, 7) and not act:
            labels.add("2022-11-07_no_action")
        if any(r["status"] == "active" for r in mrs):
            labels.add("active_covid_mr")
    else:
        raise AssertionError(kind)
    assert (entry["expected_action"] != "none") == act, entry
    return labels


# ---------------------------------------------------------------------------------------------- tests


def _now(task: dict) -> datetime:
    context = task["context"]
    match = re.search(r"It's (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d) now", context)
    try:
        return datetime.fromisoformat(match.group(1)) if match else DEFAULT_NOW
    except ValueError:
        return DEFAULT_NOW


def test_every_section6_condition_occurs_and_manifest_agrees(world) -> None:
    ehr, files = world
    records = _by_patient(ehr)
    birth = {r["id"]: r["birthDate"] for r in ehr.resources if r["resourceType"] == "Patient"}
    seen: dict[str, set[str]] = defaultdict(set)
    checked = 0
    for task in files["v1"]:
        kind, entry = task["id"].split("_")[0], ehr.manifest[f"v1/{task['id']}"]
        if kind == "task1":
            continue  # facts in test_synthetic.py
        mrn = task["eval_MRN"]
        assert entry["mrn"] == mrn and entry["now"] == S.isoformat()
        if kind == "task2":
            born = date.fromisoformat(birth[mrn])
            age = 2023 - born.year - ((born.month, born.day) > (11, 13))
            assert entry["expected_answer"] == [age]
            if born.month == 11:
                seen[f"v1/{kind}"].add(
                    "bday_before_1113" if born.day < 13 else "bday_on_1113" if born.day == 13 else "bday_after_1113"
                )
        else:
            group = "v1/glu" if kind in ("task6", "task7") else f"v1/{kind}"
            seen[group] |= check_v1(kind, records[mrn], entry)
        checked += 1
    for name in ("v2", "v2/new_tasks"):
        for task in files[name]:
            kind = task["id"].split("_")[0]
            entry = ehr.manifest[f"{name}/{task['id']}"]
            now = _now(task)
            assert entry["now"] == now.isoformat()
            labels = check_v2(kind, records[task["eval_MRN"]], entry, now)
            if name == "v2":
                seen[f"v2/{kind}"] |= labels
            checked += 1
    assert checked == 270 + 310
    missing = {group: sorted(required - seen[group]) for group, required in REQUIRED.items()}
    assert not {group: labels for group, labels in missing.items() if labels}


def test_silent_branches_are_where_the_audit_says(world) -> None:
    """A do-nothing agent (no POST, answer []) passes v1 only on silent t5/t9/t10 and never v2 task3."""
    ehr, _ = world
    silent_types = set()
    for key, entry in ehr.manifest.items():
        if key.startswith("v1/"):
            answer = entry["expected_answer"]
            graded_empty_ok = entry["type"] in ("task5", "task9", "task10")  # these graders also accept []
            if entry["expected_action"] == "none" and (answer is None or answer == [] or graded_empty_ok):
                silent_types.add(entry["type"])
        elif entry["type"] == "task3":
            assert entry["expected_action"] == "none" and len(entry["expected_answer"]) == 2
    assert silent_types == {"task5", "task9", "task10"}
