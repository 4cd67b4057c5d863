"""HealthBench data: the pinned JSONL files (or a local one), every row validated, turned into Samples.

Rows are checked as they are read; the first malformed row stops the load with an error naming the file and
the line. Sample id = `prompt_id`; the input is the conversation as is (multi-turn, no system message).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessage, ChatMessageAssistant, ChatMessageSystem, ChatMessageUser

from medarc_inspect.data import DataError, fetch_pinned, load_manifest, sha256_of

BLOB = "https://openaipublic.blob.core.windows.net/simple-evals/healthbench/"
FILES = {  # subset -> upstream file name (simple-evals @ ee3b0318)
    "full": "2025-05-07-06-14-12_oss_eval.jsonl",
    "hard": "hard_2025-05-08-21-00-10.jsonl",
    "consensus": "consensus_2025-05-09-20-00-46.jsonl",
    "meta_eval": "2025-05-07-06-14-12_oss_meta_eval.jsonl",
}
MANIFEST = "healthbench"  # medarc_inspect/data/manifests/healthbench.txt: the sha256 pins we know
RunMode = Literal["model", "physician_completions", "physician_completion_references"]
ROLES = {"user": ChatMessageUser, "assistant": ChatMessageAssistant, "system": ChatMessageSystem}
REFERENCES_PER_ROW = 4
GROUP_PREFIX = "Group "


class RowError(DataError):
    """A row that does not follow the upstream schema."""


@dataclass(frozen=True)
class DataFile:
    """The file a task reads and how it was obtained (recorded in the eval metadata)."""

    path: Path
    sha256: str
    source: str

    def provenance(self) -> dict[str, str]:
        return {"source": self.source, "file": self.path.name, "sha256": self.sha256}


def pins() -> dict[str, str]:
    """File name -> pinned sha256, from the shipped manifest."""
    return dict(load_manifest(MANIFEST))


def resolve_file(subset: str, local_path: str | None) -> DataFile:
    """`local_path` if given (hashed, not checked against a pin), else the pinned upstream file of `subset`."""
    if local_path is not None:
        path = Path(local_path).expanduser()
        if not path.is_file():
            raise DataError(f"-T local_path={local_path!r}: no such file")
        return DataFile(path, sha256_of(path), f"local file {path.resolve()}")
    name = FILES[subset]
    digest = pins().get(name)
    url = BLOB + name
    if digest is None:
        raise DataError(
            f"HealthBench {subset}: no sha256 pin is known for {url} (it could not be verified when this "
            f"version was made), so it is not downloaded unchecked. Download it yourself and pass "
            f"-T local_path=<file>; its sha256 is recorded in the eval log."
        )
    return DataFile(fetch_pinned(url, digest), digest, url)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, JSON object) per non-blank line; invalid JSON or a non-object is a RowError."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise DataError(f"cannot read {path}: {error}") from error
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise RowError(f"{path}, line {number}: not valid JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise RowError(f"{path}, line {number}: expected a JSON object, got {type(row).__name__}")
            yield number, row


def _fail(path: Path, number: int, problem: str) -> RowError:
    return RowError(f"{path}, line {number}: {problem}")


def _text(row: dict[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}{key!r} must be a non-empty string")
    return value


def _tags(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) and t for t in value):
        raise ValueError(f"{where} must be a list of non-empty strings")
    if len(set(value)) != len(value):
        raise ValueError(f"{where} repeats a tag")
    return value


def check_prompt(value: Any) -> list[dict[str, str]]:
    """A conversation: a non-empty list of {role, content} with known roles, ending with a user turn."""
    if not isinstance(value, list) or not value:
        raise ValueError("'prompt' must be a non-empty list of messages")
    for index, message in enumerate(value):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise ValueError(f"prompt[{index}] must be an object with role user, assistant or system")
        if not isinstance(message.get("content"), str):
            raise ValueError(f"prompt[{index}].content must be a string")
    if value[-1]["role"] != "user":
        raise ValueError("the conversation must end with a user message")
    return value


def check_example(row: dict[str, Any]) -> None:
    """Validate one example row (full / hard / consensus); raises ValueError naming the field."""
    _text(row, "prompt_id", "")
    check_prompt(row.get("prompt"))
    rubrics = row.get("rubrics")
    if not isinstance(rubrics, list) or not rubrics:
        raise ValueError("'rubrics' must be a non-empty list")
    for index, item in enumerate(rubrics):
        where = f"rubrics[{index}]."
        if not isinstance(item, dict):
            raise ValueError(f"rubrics[{index}] must be an object")
        _text(item, "criterion", where)
        points = item.get("points")
        if isinstance(points, bool) or not isinstance(points, int | float) or points != points:
            raise ValueError(f"{where}points must be a number")
        _tags(item.get("tags"), f"{where}tags")
    if not any(item["points"] > 0 for item in rubrics):
        raise ValueError("no rubric item has positive points, so the score is undefined")
    _tags(row.get("example_tags"), "'example_tags'")
    ideal = row.get("ideal_completions_data")
    if ideal is not None and not isinstance(ideal, dict):
        raise ValueError("'ideal_completions_data' must be null or an object")


def to_messages(prompt: list[dict[str, str]]) -> list[ChatMessage]:
    return [ROLES[m["role"]](content=m["content"]) for m in prompt]


def example_samples(row: dict[str, Any], run_mode: RunMode, groups: tuple[int, ...]) -> list[Sample]:
    """The samples of one validated row: one (model / physician completion), 4 (references) or none."""
    metadata: dict[str, Any] = {"rubrics": row["rubrics"], "example_tags": row["example_tags"]}
    if run_mode == "model":
        return [Sample(id=row["prompt_id"], input=to_messages(row["prompt"]), metadata=metadata)]
    ideal = row.get("ideal_completions_data")
    group = _group_number(ideal)
    if group is None or group not in groups:
        return []
    if run_mode == "physician_completions":
        completion = ideal.get("ideal_completion")
        if not isinstance(completion, str):
            raise ValueError("ideal_completions_data.ideal_completion must be a string")
        completions = [(row["prompt_id"], completion)]
    else:
        refs = ideal.get("ideal_completions_ref_completions")
        if not isinstance(refs, list) or len(refs) != REFERENCES_PER_ROW or not all(isinstance(r, str) for r in refs):
            raise ValueError(f"ideal_completions_ref_completions must be {REFERENCES_PER_ROW} strings")
        completions = [(f"{row['prompt_id']}:ref{i + 1}", ref) for i, ref in enumerate(refs)]
    return [
        Sample(
            id=sample_id,
            input=to_messages(row["prompt"]),
            metadata=metadata | {"completion": text, "physician_group": group},
        )
        for sample_id, text in completions
    ]


def _group_number(ideal: dict[str, Any] | None) -> int | None:
    if not ideal:
        return None
    group = ideal.get("ideal_completions_group")
    if not isinstance(group, str) or not group.startswith(GROUP_PREFIX) or not group[len(GROUP_PREFIX) :].isdigit():
        raise ValueError(f"ideal_completions_group must be 'Group <n>', got {group!r}")
    return int(group[len(GROUP_PREFIX) :])


def load_examples(
    file: DataFile,
    *,
    run_mode: RunMode = "model",
    groups: tuple[int, ...] = (1, 2, 3),
    num_examples: int | None = None,
    name: str = "healthbench",
) -> MemoryDataset:
    """Every row validated; samples in file order, or the reference's `random.Random(0).sample` draw.

    One pass: each row becomes its samples as soon as it is checked, so the raw rows are never all held.
    """
    seen: dict[str, int] = {}
    samples: list[Sample] = []
    for number, row in read_rows(file.path):
        try:
            check_example(row)
            first = seen.setdefault(row["prompt_id"], number)
            if first != number:
                raise ValueError(f"prompt_id {row['prompt_id']!r} repeats line {first}")
            samples.extend(example_samples(row, run_mode, groups))
        except ValueError as error:
            raise _fail(file.path, number, str(error)) from None
    if not seen:
        raise DataError(f"{file.path} holds no rows")
    if not samples:
        raise DataError(f"{file.path}: no row has physician completions of group(s) {', '.join(map(str, groups))}")
    if num_examples is not None and num_examples < len(samples):
        samples = random.Random(0).sample(samples, num_examples)
    return MemoryDataset(samples, name=name)


# --- meta-eval rows --------------------------------------------------------------------------------------
def _listish(value: Any) -> Any:
    """Some copies store lists as JSON text; accept both forms."""
    if isinstance(value, str) and value.startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def check_meta_row(row: dict[str, Any]) -> dict[str, Any]:
    """Validate (and normalise) one meta-eval row; raises ValueError naming the field."""
    row = dict(row)
    row["prompt"] = check_prompt(_listish(row.get("prompt")))
    for key in ("completion", "rubric", "category", "prompt_id", "completion_id"):
        value = row.get(key)
        if not isinstance(value, str) or (key != "completion" and not value):
            raise ValueError(f"{key!r} must be a {'string' if key == 'completion' else 'non-empty string'}")
    labels = _listish(row.get("binary_labels"))
    ids = _listish(row.get("anonymized_physician_ids"))
    if not isinstance(labels, list) or not labels or not all(isinstance(x, bool) for x in labels):
        raise ValueError("'binary_labels' must be a non-empty list of true/false")
    if not isinstance(ids, list) or len(ids) != len(labels) or not all(isinstance(x, str) for x in ids):
        raise ValueError("'anonymized_physician_ids' must be strings, one per binary label")
    row["binary_labels"], row["anonymized_physician_ids"] = labels, ids
    return row
