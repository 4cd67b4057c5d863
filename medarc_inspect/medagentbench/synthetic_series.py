"""Per-patient data series that put each MedAgentBench task into a chosen grader branch (spec §6).

A series is built per (patient, data group) from the union of the intents of every task type that reads
that group, so one series serves all tasks sharing it (v1 t4/t5 share MG, t6/t7 GLU, v2 t1/t5 CT).
Which branch a task really lands in is computed afterwards from the generated data
(``medarc_inspect.medagentbench.synthetic_outcomes``), never taken from these intents.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from medarc_inspect.medagentbench.synthetic_resources import (
    IdSource,
    condition,
    medication_request,
    observation,
    procedure,
    service_request,
)
from medarc_inspect.medagentbench.task_files import V1_NOW, V2_DEFAULT_NOW

H = timedelta(hours=1)
D = timedelta(days=1)
MIN = timedelta(minutes=1)
W24_START = V1_NOW - 24 * H
A1C_BOUNDARY = datetime.fromisoformat("2022-11-13T10:15:00+00:00")

#: Intended branches per task type, cycled over that type's MRNs (spec §6; names are the manifest's).
BRANCHES: dict[str, list[str]] = {
    "v1/task2": ["birthday_passed", "birthday_today", "birthday_upcoming"],
    "v1/task4": ["several_in_window", "none", "only_old", "one_in_window", "edge_24h"],
    "v1/task5": ["none", "normal_2.1", "mild_1.9", "mild_1.5", "moderate_1.2", "moderate_1", "severe_0.8"],
    "v1/task6": ["old_only", "one_in_window", "several_in_window", "none_ever"],
    "v1/task7": ["latest_recent", "latest_old", "none_ever"],
    "v1/task9": ["none", "equal_3.5", "normal", "low_3.4", "low_3.1", "old_low_new_normal"],
    "v1/task10": ["none", "old", "recent", "boundary_pair", "edge_just_before"],
    "v2/task1": ["none", "old", "recent", "period_only", "edge_365d"],
    "v2/task2": [
        "none",
        "hep5k_only",
        "hep5k_plus_duplicate",
        "single_other_anticoag",
        "two_other_anticoags",
        "heparin_flush",
    ],
    "v2/task3": ["both_windows", "only_6_12h", "none_within_12h", "future_and_edges"],
    "v2/task4": [
        "none",
        "recent",
        "old_with_active_sr",
        "old_completed_sr_only",
        "after_now",
        "old_no_sr",
        "edge_48h",
    ],
    "v2/task5": ["no_dx", "dx_no_ct", "dx_old_ct", "dx_recent_74177"],
    "v2/task6": ["A", "near_miss_A", "B", "B_edges", "mid_tsh_abnormal_ft4", "normal", "no_labs"],
    "v2/task7": ["no_qtc", "eq_500", "prolonged", "old_prolonged_new_normal", "normal"],
    "v2/task8": ["opioid_no_naloxone", "opioid_with_naloxone", "no_opioid", "stopped_opioid_only"],
    "v2/task9": ["none", "old", "recent", "exact_365d"],
    "v2/task10": [
        "none",
        "proc_only_old",
        "mr_only_recent",
        "both_recent",
        "boundary_366d",
        "boundary_365d",
        "active_mr_ignored",
    ],
}
#: Task types that read the same data group; their intents for a shared MRN are merged.
PARTNERS: dict[str, str] = {
    "v1/task4": "v1/task5",
    "v1/task5": "v1/task4",
    "v1/task6": "v1/task7",
    "v1/task7": "v1/task6",
    "v2/task1": "v2/task5",
    "v2/task5": "v2/task1",
}

# (code, text, dosage) of the medications the v2 graders look for.
HEP5K = ("HEP5K", "heparin (porcine) 5000 unit/mL injection", "5000 units SC every 8 hours")
HEP5K_COMMA = ("HEP5KC", "heparin 5,000 units/0.5 mL subcutaneous syringe", "5,000 units SC q8h")
ENOXAPARIN = ("ENOX40", "enoxaparin 40 mg/0.4 mL subcutaneous syringe", "40 mg SC daily")
APIXABAN = ("APIX5", "apixaban 5 mg tablet", "5 mg PO twice daily")
WARFARIN = ("WARF5", "warfarin 5 mg tablet", "5 mg PO daily")
HEPARIN_FLUSH = ("HEPFL", "heparin lock flush 10 unit/mL IV solution", "3 mL IV flush as needed")
OPIOIDS = [
    ("OXY5", "oxycodone 5 mg tablet", "5 mg PO every 4 hours as needed"),
    ("HYDM2", "hydromorphone 2 mg tablet", "2 mg PO every 4 hours as needed"),
    ("MORPH15", "morphine 15 mg extended-release tablet", "15 mg PO every 12 hours"),
    ("FENT25", "fentanyl 25 mcg/hr transdermal patch", "1 patch every 72 hours"),
]
NALOXONE = ("NALOX4", "naloxone 4 mg/actuation nasal spray", "1 spray intranasally as needed")
NON_OPIOID = ("IBU400", "ibuprofen 400 mg tablet", "400 mg PO every 6 hours as needed")
PANTOPRAZOLE = ("PANTO40", "pantoprazole 40 mg EC tablet", "40 mg PO daily")
COVID_MR = ("CVX", "COVID-19 VACCINE, MRNA, 30 MCG/0.3 ML IM SUSPENSION", "0.3 mL IM once")
QT_MEDS = [
    ("ONDAN4", "ondansetron 4 mg/2 mL injection", "4 mg IV every 8 hours as needed"),
    ("HALO2", "haloperidol 2 mg tablet", "2 mg PO every 6 hours as needed"),
]

Builder = Callable[[IdSource, str, random.Random, dict], list[dict]]


def _minutes(rng: random.Random, low_h: float, high_h: float) -> timedelta:
    return timedelta(minutes=rng.randint(int(low_h * 60), int(high_h * 60)))


def _older(
    rng: random.Random,
    ids: IdSource,
    mrn: str,
    code: str,
    before: datetime,
    days: tuple[int, int],
    values: Callable[[], float],
    count: tuple[int, int],
) -> list[dict]:
    return [
        observation(ids, mrn, code, before - timedelta(days=rng.randint(*days), minutes=rng.randint(0, 1439)), values())
        for _ in range(rng.randint(*count))
    ]


def magnesium(ids: IdSource, mrn: str, rng: random.Random, intent: dict) -> list[dict]:
    """MG for v1 t4/t5: ``shape`` in none/only_old/one/several/edge, ``latest`` the newest W24 value."""
    shape, latest = intent["shape"], intent["latest"]
    if shape == "none":
        return []
    out = _older(rng, ids, mrn, "MG", W24_START, (2, 60), lambda: round(rng.uniform(1.6, 2.4), 1), (1, 3))
    if shape == "only_old":
        out.append(observation(ids, mrn, "MG", W24_START - MIN, 1.1))  # low, but 1 minute too old
    elif shape == "one":
        out.append(observation(ids, mrn, "MG", V1_NOW - _minutes(rng, 1, 20), latest))
    elif shape == "several":
        out.append(observation(ids, mrn, "MG", V1_NOW - 22 * H, round(rng.uniform(1.6, 2.4), 1)))
        out.append(observation(ids, mrn, "MG", V1_NOW - 14 * H, round(rng.uniform(1.6, 2.4), 1)))
        out.append(observation(ids, mrn, "MG", V1_NOW - _minutes(rng, 1, 6), latest))
    elif shape == "edge":
        out.append(observation(ids, mrn, "MG", W24_START, latest))
    return out


def glucose(ids: IdSource, mrn: str, rng: random.Random, intent: dict) -> list[dict]:
    """GLU for v1 t6/t7: ``shape`` in none/old_only/one/several."""
    shape = intent["shape"]
    if shape == "none":
        return []
    out = _older(rng, ids, mrn, "GLU", W24_START, (2, 90), lambda: rng.randint(80, 220), (2, 4))
    if shape == "old_only":
        out.append(observation(ids, mrn, "GLU", W24_START - MIN, rng.randint(90, 180)))
    elif shape == "one":
        out.append(observation(ids, mrn, "GLU", V1_NOW - _minutes(rng, 1, 20), rng.randint(90, 250)))
    elif shape == "several":
        values = [rng.randint(90, 250) for _ in range(3)]
        while sum(values) % 3 == 0:
            values[0] += 1
        moments = [W24_START, V1_NOW - 10 * H, V1_NOW - _minutes(rng, 1, 5)]
        out.extend(observation(ids, mrn, "GLU", m, v) for m, v in zip(moments, values, strict=True))
    return out


def potassium(ids: IdSource, mrn: str, rng: random.Random, intent: dict) -> list[dict]:
    branch = intent["branch"]
    if branch == "none":
        return []
    out = _older(rng, ids, mrn, "K", V1_NOW - 10 * D, (1, 300), lambda: round(rng.uniform(3.6, 4.8), 1), (1, 3))
    recent = V1_NOW - _minutes(rng, 2, 30)
    if branch == "old_low_new_normal":
        out.append(observation(ids, mrn, "K", V1_NOW - 8 * D, 3.0))
        out.append(observation(ids, mrn, "K", recent, 3.9))
    else:
        value = {"equal_3.5": 3.5, "low_3.4": 3.4, "low_3.1": 3.1}.get(branch)
        out.append(observation(ids, mrn, "K", recent, value if value is not None else 4.2))
    return out


def hba1c(ids: IdSource, mrn: str, rng: random.Random, intent: dict) -> list[dict]:
    branch = intent["branch"]
    if branch == "none":
        return []

    def value() -> float:
        return round(rng.uniform(5.2, 9.8), 1)

    out = [observation(ids, mrn, "A1C", A1C_BOUNDARY - timedelta(days=rng.randint(400, 900)), value())]
    moments = {
        "old": [A1C_BOUNDARY - timedelta(days=rng.randint(30, 300), minutes=rng.randint(0, 1439))],
        "recent": [V1_NOW - timedelta(days=rng.randint(10, 300), minutes=rng.randint(0, 1439))],
        "boundary_pair": [A1C_BOUNDARY - 5 * MIN, A1C_BOUNDARY + 5 * MIN],
        "edge_just_before": [A1C_BOUNDARY - timedelta(seconds=1)],
    }[branch]
    out.extend(observation(ids, mrn, "A1C", moment, value()) for moment in moments)
    return out


def renal_ct(ids: IdSource, mrn: str, rng: random.Random, intent: dict) -> list[dict]:
    """CT procedures and kidney diagnoses for v2 t1 (``t1``) and t5 (``t5``), relative to the default NOW."""
    now, t1, t5 = V2_DEFAULT_NOW, intent.get("t1"), intent.get("t5")
    year = timedelta(days=365)
    out: list[dict] = []
    if t1 == "old":
        out.append(procedure(ids, mrn, "IMGIL0001", now - timedelta(days=rng.randint(800, 1200))))
        out.append(procedure(ids, mrn, "IMGCT0491", now - timedelta(days=rng.randint(400, 700))))
    elif t1 == "recent":
        out.append(procedure(ids, mrn, "IMGIL0001", now - timedelta(days=rng.randint(500, 900))))
        out.append(procedure(ids, mrn, "IMGCT0491", now - timedelta(days=rng.randint(150, 300))))
    elif t1 == "period_only":
        out.append(procedure(ids, mrn, "IMGIL0001", now - year + 2 * H, period_start=now - year - 2 * H))
    elif t1 == "edge_365d":
        out.append(procedure(ids, mrn, "IMGCT0491", now - year))
    if t5 is None:
        return out
    if t5 == "no_dx":
        out.append(condition(ids, mrn, "C64.1", now - timedelta(days=rng.randint(200, 800))))
        return out
    out.append(condition(ids, mrn, "C64.2", now - timedelta(days=rng.randint(200, 800))))
    if t5 == "dx_old_ct" and t1 in (None, "none"):
        out.append(procedure(ids, mrn, "74177", now - timedelta(days=rng.randint(120, 200))))
    elif t5 == "dx_recent_74177":
        out.append(procedure(ids, mrn, "74177", now - timedelta(days=rng.randint(10, 80))))
    return out


def _mr(ids: IdSource, mrn: str, med: tuple[str, str, str], status: str, moment: datetime) -> dict:
    code, text, dosage = med
    return medication_request(ids, mrn, code, text, status, moment, dosage)


def anticoagulants(ids: IdSource, mrn: str, rng: random.Random, intent: dict) -> list[dict]:
    now, branch = V2_DEFAULT_NOW, intent["branch"]

    def ago() -> datetime:
        return now - timedelta(days=rng.randint(1, 20), minutes=rng.randint(0, 1439))

    meds = {
        "none": [(HEP5K, "stopped"), (PANTOPRAZOLE, "active")],
        "hep5k_only": [(HEP5K, "active")],
        "hep5k_plus_duplicate": [(HEP5K_COMMA, "active"), (ENOXAPARIN, "active")],
        "single_other_anticoag": [(ENOXAPARIN, "active")],
        "two_other_anticoags": [(APIXABAN, "active"), (WARFARIN, "active")],
        "heparin_flush": [(HEPARIN_FLUSH, "active")],
    }[branch]
    return [_mr(ids, mrn, med, status, ago()) for med, status in meds]


def opioids(ids: IdSource, mrn: str, rng: random.Random, intent: dict) -> list[dict]:
    now, branch = V2_DEFAULT_NOW, intent["branch"]
    opioid = rng.choice(OPIOIDS)

    def ago() -> datetime:
        return now - timedelta(days=rng.randint(1, 30), minutes=rng.randint(0, 1439))

    meds = {
        "opioid_no_naloxone": [(opioid, "active")],
        "opioid_with_naloxone": [(opioid, "active"), (NALOXONE, "active")],
        "no_opioid": [(NON_OPIOID, "active")],
        "stopped_opioid_only": [(opioid, "stopped"), (OPIOIDS[2], "completed")],
    }[branch]
    return [_mr(ids, mrn, med, status, ago()) for med, status in meds]


def covid(ids: IdSource, mrn: str, rng: random.Random, intent: dict) -> list[dict]:
    """COVID vaccine procedures and MRs for v2 t10 (NOW 2023-11-07; date differences count)."""
    day = datetime.fromisoformat("2023-11-07T00:00:00+00:00")
    branch = intent["branch"]
    old = day - timedelta(days=rng.randint(700, 950), hours=rng.randint(8, 17))
    recent = day - timedelta(days=rng.randint(20, 200), hours=rng.randint(8, 17))
    out: list[dict] = []
    if branch in ("proc_only_old", "both_recent", "active_mr_ignored"):
        out.append(procedure(ids, mrn, "COVIDVACCINE", old - 30 * D))
        out.append(procedure(ids, mrn, "COVIDVACCINE", old))
    if branch in ("mr_only_recent", "both_recent"):
        out.append(_mr(ids, mrn, COVID_MR, "completed", recent))
    if branch == "active_mr_ignored":
        out.append(_mr(ids, mrn, COVID_MR, "active", recent))
    if branch == "boundary_366d":
        out.append(procedure(ids, mrn, "COVIDVACCINE", day - 366 * D + 15 * H))
    if branch == "boundary_365d":
        out.append(procedure(ids, mrn, "COVIDVACCINE", day - 365 * D + 8 * H))
    return out


def heart_rate(ids: IdSource, mrn: str, rng: random.Random, intent: dict) -> list[dict]:
    """HEARTRATE for v2 t3, relative to that task's NOW (windows [NOW-6h, NOW] and [NOW-12h, NOW])."""
    now, branch = intent["now"], intent["branch"]
    offsets = {
        "both_windows": [-1 * H, -3 * H, -5.5 * H, -8 * H, -11 * H, -14 * H, -26 * H],
        "only_6_12h": [-7 * H, -9 * H, -11.5 * H, -13 * H, -30 * H],
        "none_within_12h": [-13 * H, -20 * H, -50 * H],
        "future_and_edges": [0 * H, -6 * H, -12 * H, -12 * H - MIN, -3 * H, 0.5 * H, 2 * H],
    }[branch]
    return [observation(ids, mrn, "HEARTRATE", now + offset, rng.randint(58, 118)) for offset in offsets]


def catheter(ids: IdSource, mrn: str, rng: random.Random, intent: dict) -> list[dict]:
    """NUR1373 insertions and removal orders for v2 t4, relative to that task's NOW."""
    now, branch = intent["now"], intent["branch"]
    removal = ("NUR1373", "Remove indwelling urinary catheter")
    out: list[dict] = []
    if branch == "recent":
        out.append(procedure(ids, mrn, "NUR1373", now - _minutes(rng, 6, 40)))
    elif branch == "old_with_active_sr":
        out.append(procedure(ids, mrn, "NUR1373", now - _minutes(rng, 72, 144)))
        out.append(service_request(ids, mrn, *removal, "active", now - 20 * H))
    elif branch == "old_completed_sr_only":
        out.append(procedure(ids, mrn, "NUR1373", now - 20 * D))
        out.append(service_request(ids, mrn, *removal, "completed", now - 18 * D))
        out.append(procedure(ids, mrn, "NUR1373", now - _minutes(rng, 72, 144)))
    elif branch == "after_now":
        out.append(procedure(ids, mrn, "NUR1373", now - 10 * D))
        out.append(procedure(ids, mrn, "NUR1373", now + 5 * H))
    elif branch == "old_no_sr":
        out.append(procedure(ids, mrn, "NUR1373", now - 74 * H))
    elif branch == "edge_48h":
        out.append(procedure(ids, mrn, "NUR1373", now - 48 * H))
    return out


def thyroid(ids: IdSource, mrn: str, rng: random.Random, intent: dict) -> list[dict]:
    now, branch = V2_DEFAULT_NOW, intent["branch"]
    series = {
        "A": ([(-120, 11.5), (-60, 12.8)], [(-60, 0.7)]),
        "near_miss_A": ([(-300, 3.2), (-40, 10.8), (-20, 11.6)], [(-20, 1.0)]),
        "B": ([(-100, 6.2), (-10, 7.4)], [(-10, 1.2)]),
        "B_edges": ([(-400, 12.0), (-5, 10.0)], [(-100, 1.9), (-5, 0.8)]),
        "mid_tsh_abnormal_ft4": ([(-15, 8.1)], [(-15, 0.6)]),
        "normal": ([(-30, 2.3)], [(-30, 1.1)]),
        "no_labs": ([], []),
    }[branch]
    jitter = timedelta(minutes=rng.randint(0, 600))
    out = [observation(ids, mrn, "TSH", now + days * D - jitter, value) for days, value in series[0]]
    out += [observation(ids, mrn, "FT4", now + days * D - jitter, value) for days, value in series[1]]
    return out


def qtc(ids: IdSource, mrn: str, rng: random.Random, intent: dict) -> list[dict]:
    now, branch = V2_DEFAULT_NOW, intent["branch"]
    values = {
        "no_qtc": [],
        "eq_500": [(-40, 470), (-2, 500)],
        "prolonged": [(-30, 465), (-1, 532)],
        "old_prolonged_new_normal": [(-10, 525), (-1, 460)],
        "normal": [(-5, 430)],
    }[branch]
    out = [observation(ids, mrn, "QTCINTERVAL", now + days * D, value) for days, value in values]
    if branch in ("prolonged", "old_prolonged_new_normal"):
        out.append(_mr(ids, mrn, rng.choice(QT_MEDS), "active", now - 3 * D))
    return out


def flu(ids: IdSource, mrn: str, rng: random.Random, intent: dict) -> list[dict]:
    now, branch = intent["now"], intent["branch"]
    if branch == "none":
        return []
    out = [procedure(ids, mrn, "90686", now - timedelta(days=rng.randint(800, 1100)))]
    latest = {
        "old": now - timedelta(days=rng.randint(400, 700)),
        "recent": now - timedelta(days=rng.randint(30, 300)),
        "exact_365d": now - 365 * D,
    }[branch]
    out.append(procedure(ids, mrn, "90686", latest))
    return out


#: data group -> builder. Each group's intent dict is documented on its builder.
BUILDERS: dict[str, Builder] = {
    "mg": magnesium,
    "glu": glucose,
    "k": potassium,
    "a1c": hba1c,
    "ct": renal_ct,
    "anticoag": anticoagulants,
    "opioid": opioids,
    "covid": covid,
    "hr": heart_rate,
    "cath": catheter,
    "thyroid": thyroid,
    "qtc": qtc,
    "flu": flu,
}
#: task type -> the data group its grader reads.
GROUP_OF: dict[str, str] = {
    "v1/task4": "mg",
    "v1/task5": "mg",
    "v1/task6": "glu",
    "v1/task7": "glu",
    "v1/task9": "k",
    "v1/task10": "a1c",
    "v2/task1": "ct",
    "v2/task5": "ct",
    "v2/task2": "anticoag",
    "v2/task8": "opioid",
    "v2/task10": "covid",
    "v2/task3": "hr",
    "v2/task4": "cath",
    "v2/task6": "thyroid",
    "v2/task7": "qtc",
    "v2/task9": "flu",
}

_MG_T5_VALUE = {
    "none": None,
    "normal_2.1": 2.1,
    "mild_1.9": 1.9,
    "mild_1.5": 1.5,
    "moderate_1.2": 1.2,
    "moderate_1": 1.0,
    "severe_0.8": 0.8,
}
_MG_T4_SHAPE = {
    "none": "none",
    "only_old": "only_old",
    "one_in_window": "one",
    "several_in_window": "several",
    "edge_24h": "edge",
}
_GLU_T6_SHAPE = {"old_only": "old_only", "one_in_window": "one", "several_in_window": "several", "none_ever": "none"}


def merge_intents(group: str, by_type: dict[str, str], now: dict[str, datetime], rng: random.Random) -> dict:
    """One series intent for a patient from the branches intended by every task type reading ``group``."""
    if group == "mg":
        t4, t5 = by_type.get("v1/task4"), by_type.get("v1/task5")
        latest = _MG_T5_VALUE[t5] if t5 is not None else round(rng.uniform(1.5, 2.6), 1)
        shape = _MG_T4_SHAPE[t4] if t4 is not None else None
        if t5 is not None:
            if latest is None and shape not in ("none", "only_old"):
                shape = "only_old"
            elif latest is not None and shape in (None, "none", "only_old"):
                shape = ("one", "several", "edge")[rng.randrange(3)] if shape is None else "one"
        return {"shape": shape, "latest": latest}
    if group == "glu":
        t6, t7 = by_type.get("v1/task6"), by_type.get("v1/task7")
        if t6 is not None:
            return {"shape": _GLU_T6_SHAPE[t6]}
        recent = ("one", "several")[rng.randrange(2)]
        return {"shape": {"latest_recent": recent, "latest_old": "old_only", "none_ever": "none"}[t7]}
    if group == "ct":
        return {"t1": by_type.get("v2/task1"), "t5": by_type.get("v2/task5")}
    ((task_type, branch),) = by_type.items()
    return {"branch": branch, "now": now.get(task_type)}
