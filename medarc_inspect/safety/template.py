"""Prompt templates filled in one pass: a template is a sequence of literal text and named slots.

Text put into one slot is never scanned for another slot, so a model answer containing "{REQUEST}" stays as it is.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from medarc_inspect.errors import UserFacingError


@dataclass(frozen=True)
class Slot:
    """A named hole in a template."""

    name: str


@dataclass(frozen=True)
class SlotTemplate:
    """Literal parts and slots, in order."""

    parts: tuple[str | Slot, ...]

    @classmethod
    def from_text(cls, text: str, slots: Sequence[str]) -> SlotTemplate:
        """Split `text` at each `{NAME}` for the given slot names (other braces stay literal)."""
        pattern = re.compile("|".join(re.escape("{" + name + "}") for name in slots))
        parts: list[str | Slot] = []
        position = 0
        for match in pattern.finditer(text):
            parts.extend([text[position : match.start()], Slot(match.group()[1:-1])])
            position = match.end()
        parts.append(text[position:])
        return cls(tuple(part for part in parts if part != ""))

    @property
    def slots(self) -> set[str]:
        return {part.name for part in self.parts if isinstance(part, Slot)}

    def render(self, values: Mapping[str, str]) -> str:
        """The text with every slot replaced by its value (one pass)."""
        missing = self.slots - set(values)
        if missing:
            raise UserFacingError(f"template slots without a value: {', '.join(sorted(missing))}")
        return "".join(part if isinstance(part, str) else values[part.name] for part in self.parts)

    def digest(self) -> str:
        """A short hash of the template (for cache scopes and logs)."""
        marked = "".join(part if isinstance(part, str) else "\x00" + part.name + "\x00" for part in self.parts)
        return hashlib.sha256(marked.encode()).hexdigest()[:16]
