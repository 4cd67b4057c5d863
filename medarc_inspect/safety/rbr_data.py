"""The RBR release's files, read at run time from the pinned commit (cache / mirror / network).

- The human-labelled gold set (train 351, test 167 rows). It contains offensive text: never ship or print it.
- `config/proposition_prompts.yaml`: the released grader template and proposition questions, used only by
  profile `rbr_release` and never copied into the project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from medarc_inspect.data import DataError, fetch_pinned
from medarc_inspect.safety.rbr import RESPONSE_TYPES, SIMPLE_PROPOSITIONS

RBR_REPO = "openai/safety-rbr-code-and-data"
RBR_COMMIT = "7f489fa6b38d72468235f275c23bf3f0c849e5ca"
RBR_BASE = f"https://raw.githubusercontent.com/{RBR_REPO}/{RBR_COMMIT}/"
GOLD_FILES = {
    "train": (
        "data/rbr_gold_data/train.jsonl",
        "fa09c23e6cc9e612d2f8341b65cb1fccf752c325ece693fed6b702f7a8188690",
        351,
    ),
    "test": ("data/rbr_gold_data/test.jsonl", "c3478da9b13f0591a96eada18cacb15ec462ce724943defbec928e4fd6bd73ce", 167),
}
PROMPTS_FILE = ("config/proposition_prompts.yaml", "49fddafdc90a0aea2fe5501ca68496fa0b1975930e1c144559f24cfd656d8204")
GoldSplit = Literal["train", "test"]


@dataclass(frozen=True)
class GoldRow:
    """One labelled row: a conversation (ending on the user), the completion and its human propositions."""

    id: str
    split: str
    category: str
    response_type: str
    prompt: list[dict[str, str]]
    completion: str
    propositions: dict[str, bool]


def gold_path(split: GoldSplit) -> Path:
    path, sha256, _ = GOLD_FILES[split]
    return fetch_pinned(RBR_BASE + path, sha256)


def parse_gold(text: str, split: str, source: str = "gold file") -> list[GoldRow]:
    """Rows of a gold JSONL file; a malformed row is an error naming the file and the line."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(_row(json.loads(line), f"{split}_{number:03d}", split))
        except (ValueError, KeyError, TypeError) as exc:
            raise DataError(f"{source} line {number}: malformed RBR gold row ({exc})") from None
    return rows


def _row(raw: dict[str, Any], row_id: str, split: str) -> GoldRow:
    if raw["response_type"] not in RESPONSE_TYPES:
        raise ValueError(f"unknown response_type {raw['response_type']!r}")
    props = raw["propositions"]
    missing = [p for p in SIMPLE_PROPOSITIONS if not isinstance(props.get(p), bool)]
    if missing:
        raise ValueError(f"propositions missing or not boolean: {', '.join(missing)}")
    prompt = [{"role": str(m["role"]), "content": str(m["content"])} for m in raw["prompt"]]
    if not prompt or prompt[-1]["role"] != "user":
        raise ValueError("the prompt must end on a user message")
    completion = raw["completion"]
    if isinstance(completion, list):
        if len(completion) != 1 or completion[0].get("role") != "assistant":
            raise ValueError("the completion must be one assistant message")
        completion = completion[0]["content"]
    return GoldRow(
        id=row_id,
        split=split,
        category=str(raw["category"]),
        response_type=raw["response_type"],
        prompt=prompt,
        completion=str(completion),
        propositions={p: bool(props[p]) for p in SIMPLE_PROPOSITIONS},
    )


def load_gold(split: GoldSplit) -> list[GoldRow]:
    """The pinned gold rows of `split`, checked against the expected row count."""
    path = gold_path(split)
    rows = parse_gold(path.read_text(encoding="utf-8"), split, str(path))
    expected = GOLD_FILES[split][2]
    if len(rows) != expected:
        raise DataError(f"{path}: {len(rows)} gold rows, expected {expected}")
    return rows


@dataclass(frozen=True)
class ReleasedPrompts:
    """The released grader template (slots {question}, {response}) and one question per simple proposition."""

    template: str
    questions: dict[str, str]


def load_released_prompts() -> ReleasedPrompts:
    """The release's proposition prompts, read from the pinned YAML (never stored in the project)."""
    path = fetch_pinned(RBR_BASE + PROMPTS_FILE[0], PROMPTS_FILE[1])
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        template = config["prompt_template"]
        questions = {name: entry["prompt"] for name, entry in config["simple_propositions"].items()}
    except (KeyError, TypeError) as exc:
        raise DataError(f"{path}: unexpected layout of the RBR proposition prompts ({exc})") from None
    missing = [p for p in SIMPLE_PROPOSITIONS if p not in questions]
    if missing or "{question}" not in template or "{response}" not in template:
        raise DataError(f"{path}: the released prompts lack {', '.join(missing) or 'the template slots'}")
    return ReleasedPrompts(template, questions)


def released_rules() -> dict[str, Any]:
    """The release's own rule tables (`derived_propositions`, `completion_classes`), for cross-checking ours."""
    path = fetch_pinned(RBR_BASE + PROMPTS_FILE[0], PROMPTS_FILE[1])
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {"derived_propositions": config["derived_propositions"], "completion_classes": config["completion_classes"]}
