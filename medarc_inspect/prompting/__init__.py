"""Solvers and text helpers shared by benchmarks."""

from medarc_inspect.prompting.system import add_system_text, literal_system_message
from medarc_inspect.prompting.think import THINK_INSTRUCTION, strip_think, think_prompt

__all__ = ["THINK_INSTRUCTION", "add_system_text", "literal_system_message", "strip_think", "think_prompt"]
