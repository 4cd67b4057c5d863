"""Over-refusal data: XSTest (downloaded at run time, pinned) and the project's benign medical twins.

XSTest (Röttger et al. 2024, CC-BY-4.0): 250 safe prompts that look unsafe (graded `Comply`) and 200 unsafe
`contrast_*` prompts (graded `Hard Refuse`, optional). Twins: 90 project-authored legitimate medical requests
that mirror MedSafetyBench requests (package data, CC-BY-4.0). Crisis: 12 project-authored self-harm messages
(`Safe Refuse 1` ideation, `Safe Refuse 2` method requests), 3 needing emergency escalation.
"""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from typing import Any

from inspect_ai.dataset import Sample

from medarc_inspect.data import DataError, fetch_pinned
from medarc_inspect.safety.rbr import COMPLY, HARD_REFUSE, RESPONSE_TYPES, SAFE_REFUSE_1, SAFE_REFUSE_2

XSTEST_COMMIT = "d7bb5bd738c1fcbc36edd83d5e7d1b71a3e2d84d"
XSTEST_URL = f"https://raw.githubusercontent.com/paul-rottger/exaggerated-safety/{XSTEST_COMMIT}/xstest_prompts.csv"
XSTEST_SHA256 = "11783fb294ed017473ee53c207d71f2161c7672c8d0b037501e78387f801cb5a"
XSTEST_COUNTS = {"safe": 250, "unsafe": 200}
XSTEST_COLUMNS = ["id", "prompt", "type", "label", "focus", "note"]
TWINS_FILE = "medical_twins.jsonl"
CRISIS_FILE = "medical_crisis.jsonl"
CRISIS_FIELDS = ("id", "prompt", "response_type", "escalation", "rationale")
TWIN_FIELDS = ("id", "prompt", "category", "twin_of", "response_type", "rationale")


def parse_xstest(text: str, source: str = "xstest_prompts.csv") -> list[dict[str, str]]:
    """XSTest rows; a wrong header, label or empty prompt is an error naming the row."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames != XSTEST_COLUMNS:
        raise DataError(f"{source}: header {reader.fieldnames}, expected {XSTEST_COLUMNS}")
    rows = []
    for number, row in enumerate(reader, start=2):
        if row["label"] not in XSTEST_COUNTS or not (row["prompt"] or "").strip() or not row["id"]:
            raise DataError(f"{source} line {number}: malformed XSTest row (label {row['label']!r})")
        rows.append(row)
    return rows


def xstest_rows() -> list[dict[str, str]]:
    """The pinned XSTest file's 450 rows (250 safe, 200 unsafe), checked."""
    path = fetch_pinned(XSTEST_URL, XSTEST_SHA256)
    rows = parse_xstest(path.read_text(encoding="utf-8"), str(path))
    counts = {label: sum(r["label"] == label for r in rows) for label in XSTEST_COUNTS}
    if counts != XSTEST_COUNTS:
        raise DataError(f"{path}: XSTest counts {counts}, expected {XSTEST_COUNTS}")
    return rows


def xstest_samples(include_unsafe: bool = False) -> list[Sample]:
    """Safe prompts as `Comply` samples, plus (optionally) the unsafe contrast prompts as `Hard Refuse`."""
    samples = []
    for row in xstest_rows():
        if row["label"] == "unsafe" and not include_unsafe:
            continue
        response_type = COMPLY if row["label"] == "safe" else HARD_REFUSE
        samples.append(
            Sample(
                id=f"xstest_{int(row['id']):03d}",
                input=row["prompt"],
                metadata={
                    "set": "xstest" if row["label"] == "safe" else "xstest_unsafe",
                    "response_type": response_type,
                    "xstest_type": row["type"],
                    "label": row["label"],
                    "focus": row["focus"],
                    "note": row["note"],
                },
            )
        )
    return samples


def parse_twins(text: str, source: str = TWINS_FILE) -> list[dict[str, Any]]:
    """The twin rows; a missing field, bad category or response type is an error naming the line."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            missing = [f for f in TWIN_FIELDS if f not in row]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            if row["category"] not in range(1, 10) or row["response_type"] not in RESPONSE_TYPES:
                raise ValueError("category must be 1-9 and response_type a known type")
            if not str(row["prompt"]).strip():
                raise ValueError("empty prompt")
        except ValueError as exc:
            raise DataError(f"{source} line {number}: malformed twin ({exc})") from None
        rows.append(row)
    return rows


def twin_rows() -> list[dict[str, Any]]:
    text = resources.files("medarc_inspect.safety.data").joinpath(TWINS_FILE).read_text(encoding="utf-8")
    return parse_twins(text)


def twin_samples(categories: list[int] | None = None) -> list[Sample]:
    """The benign medical twins as samples of their response type (all `Comply`)."""
    return [
        Sample(
            id=row["id"],
            input=row["prompt"],
            metadata={
                "set": "medical_twins",
                "response_type": row["response_type"],
                "category": row["category"],
                "twin_of": row["twin_of"],
                "rationale": row["rationale"],
                "escalation": row.get("escalation"),
            },
        )
        for row in twin_rows()
        if categories is None or row["category"] in categories
    ]


def parse_crisis(text: str, source: str = CRISIS_FILE) -> list[dict[str, Any]]:
    """The crisis rows (SR1/SR2); a missing field, bad type or escalation value is an error naming the line."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            missing = [f for f in CRISIS_FIELDS if f not in row]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            if row["response_type"] not in (SAFE_REFUSE_1, SAFE_REFUSE_2) or row["escalation"] not in (
                None,
                "required",
            ):
                raise ValueError("response_type must be Safe Refuse 1/2 and escalation null or 'required'")
        except ValueError as exc:
            raise DataError(f"{source} line {number}: malformed crisis row ({exc})") from None
        rows.append(row)
    return rows


def crisis_samples() -> list[Sample]:
    """The project's crisis messages as `Safe Refuse 1` / `Safe Refuse 2` samples (escalation in metadata)."""
    text = resources.files("medarc_inspect.safety.data").joinpath(CRISIS_FILE).read_text(encoding="utf-8")
    return [
        Sample(
            id=row["id"],
            input=row["prompt"],
            metadata={
                "set": "medical_crisis",
                "response_type": row["response_type"],
                "escalation": row["escalation"],
                "rationale": row["rationale"],
            },
        )
        for row in parse_crisis(text)
    ]
