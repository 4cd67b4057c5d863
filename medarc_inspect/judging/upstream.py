"""How the reference harnesses read and combine criteria-JSON judge replies, rule for rule (our own code).

HELM (`stanford-crfm/helm`, LLM-as-jury annotator + jury metric, at the commit a benchmark pins):
- the reply is cut from its first `{` to its last `}` (greedy; the whole reply when there is none) and given to
  `json.loads`; when that fails with "Expecting ',' delimiter", one `}` is appended and it is tried once more;
- every criterion must be a key (case-sensitive) whose value contains `score` and `explanation`, else the judge
  fails;
- the sample's score is the mean of `int(value["score"])` over *every* key of every valid judge (extra keys
  included); no range check; no valid judge gives the metric's default. A value `int()` cannot take, or a key
  whose value is not an object with a `score`, raised inside HELM's metric and stopped the whole run: here the
  verdict fails with `upstream_crash=True` so the crash is counted, never hidden.

MedARC (`MedARC-AI/med-lm-envs`, `JSONParser` + `normalize_helm_reward` + `MultiJudge.mean`):
- the JSON object is found from the *last* `}`, trying each `{` before it from right to left; the first span that
  loads as an object wins (so a reply missing its final `}` yields its last inner object); strings are stripped;
- each criterion's `score` is read as a number (numeric strings too, `true` as 1), clamped to [min, max] and mapped
  to (s - min) / (max - min); missing or non-numeric criteria are left out and the judge averages the rest (none
  usable: 0); a criterion whose value is not an object made the reward function raise, which scored the sample 0;
- an unparseable reply scores 0, an API error is left out, and the judges are averaged (none left: 0).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from medarc_inspect.judging.parsing import JudgeParseError

_GREEDY_OBJECT = re.compile(r"\{.*\}", re.DOTALL)
HELM_SUBKEYS = ("score", "explanation")


class UpstreamCrash(JudgeParseError):
    """A reply the reference harness would have crashed on (its whole run, not one verdict)."""

    upstream_crash = True


# --- HELM --------------------------------------------------------------------------------------------------------
def helm_jury_ratings(reply: str, criteria: Sequence[str]) -> dict[str, float]:
    """Every key's `int(score)` from a reply HELM accepts; JudgeParseError where HELM drops the judge,
    UpstreamCrash where HELM's metric raised."""
    match = _GREEDY_OBJECT.search(reply)
    text = match.group(0) if match else reply
    try:
        annotation = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Expecting ',' delimiter":
            raise JudgeParseError(f"HELM: json.loads failed ({exc.msg})") from None
        try:
            annotation = json.loads(text + "}")
        except Exception as again:
            raise JudgeParseError(f"HELM: json.loads failed after adding a closing brace ({again})") from None
    try:
        for criterion in criteria:
            if criterion not in annotation:
                raise JudgeParseError(f"HELM: criterion {criterion!r} missing")
            for subkey in HELM_SUBKEYS:
                if subkey not in annotation[criterion]:
                    raise JudgeParseError(f"HELM: {criterion!r} has no {subkey!r}")
    except JudgeParseError:
        raise
    except Exception as exc:  # HELM's annotator caught everything here and dropped the judge
        raise JudgeParseError(f"HELM: invalid annotation ({type(exc).__name__}: {exc})") from None
    ratings: dict[str, float] = {}
    for key, value in annotation.items():
        try:
            ratings[key] = float(int(value["score"]))
        except Exception as exc:
            raise UpstreamCrash(
                f"HELM's metric would have crashed the run on {key!r}: {type(exc).__name__}: {exc}"
            ) from None
    return ratings


# --- MedARC ------------------------------------------------------------------------------------------------------
@dataclass
class MedarcJudgement:
    """One MedARC judge: its normalised reward, the clamped criteria it used, and whether the reward raised."""

    reward: float
    criteria: dict[str, float] = field(default_factory=dict)
    raised: str | None = None


def medarc_json_object(reply: str) -> dict[str, Any] | None:
    """MedARC's JSON extraction: last `}` and a backward walk over the `{` before it; strings stripped."""
    last_close = reply.rfind("}")
    if last_close == -1:
        return None
    for start in reversed([i for i, ch in enumerate(reply[: last_close + 1]) if ch == "{"]):
        try:
            parsed = json.loads(reply[start : last_close + 1])
        except json.JSONDecodeError:
            continue
        if isinstance(parsed, dict):
            return _strip_strings(parsed)
    return None


def medarc_number(value: Any) -> float | None:
    """MedARC's score coercion: numbers (booleans too) and numeric strings; anything else None."""
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value.strip():
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def medarc_judgement(reply: str, criteria: Sequence[str], low: float = 1.0, high: float = 5.0) -> MedarcJudgement:
    """What MedARC makes of one reply (an unparseable one raises JudgeParseError; it scores 0 there)."""
    annotation = medarc_json_object(reply)
    if annotation is None:
        raise JudgeParseError("MedARC: no JSON object in the reply")
    used: dict[str, float] = {}
    for criterion in criteria:
        entry = annotation.get(criterion, {})
        if not isinstance(entry, Mapping):
            return MedarcJudgement(0.0, raised=f"criterion {criterion!r} is a {type(entry).__name__}, not an object")
        score = medarc_number(entry.get("score"))
        if score is None:
            continue
        used[criterion] = max(low, min(high, score))
    if not used:
        return MedarcJudgement(0.0)
    reward = sum((s - low) / (high - low) for s in used.values()) / len(used)
    return MedarcJudgement(max(0.0, min(1.0, reward)), used)


def _strip_strings(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return {k: _strip_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_strings(v) for v in value]
    return value
