"""Judge setup at task build time: who judges, checked before the first model call, and recorded truthfully.

    setup = judge_setup(judge_model, presets=PRESETS, cache=judge_cache, max_retries=judge_max_retries)
    Task(..., scorer=my_scorer(setup), metadata={"judging": setup.metadata()})
    # in the scorer: verdicts = await setup.ask(prompt, parse); Score(metadata={"judging": setup.metadata()})

Judges come from the `grader` role when one is bound (`--model-role grader=a/x,b/y`), else from the `judge_model`
task argument (one name, a preset name, a list, or comma-separated names). Every named judge is checked and
constructed here: a well-formed name, a known provider, its Python package, its credentials; the Inspect cache
must be writable when caching is on. Each problem is one `JudgeConfigError` line with the fix.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from inspect_ai.model import ChatMessage, GenerateConfig, Model, cache_path, get_model, model_roles

from medarc_inspect import taskargs
from medarc_inspect.judging.panel import JUDGE_ROLE, JudgeConfigError, JudgePanel, JudgeVerdict

T = TypeVar("T")
logger = logging.getLogger(__name__)

# provider -> (module to import, pip extra of this package that installs it)
PROVIDER_PACKAGES: dict[str, tuple[str, str]] = {
    "openai": ("openai", "openai"),
    "together": ("openai", "openai"),  # Inspect talks to Together through the openai SDK
    "openrouter": ("openai", "openai"),
    "anthropic": ("anthropic", "anthropic"),
}
_MARKUP = re.compile(r"\[/?(?:bold|blue|red|green|yellow|italic|dim)[^\]]*\]")
_ENV_VAR = re.compile(r"\b[A-Z][A-Z0-9_]*_(?:API_KEY|KEY|TOKEN)\b")


@dataclass
class JudgeSetup:
    """The judges of a task and how they are asked; see the module docstring."""

    judges: list[Model]
    source: str  # "role" or "judge_model"
    role: str = JUDGE_ROLE
    requested: list[str] = field(default_factory=list)  # the judge_model names (after preset expansion)
    preset: str | None = None
    defaults: GenerateConfig = field(default_factory=GenerateConfig)
    max_retries: int = 2
    cache: bool | str = True
    cache_scope: str = ""
    _announced: bool = field(default=False, repr=False)

    def current_judges(self) -> list[Model]:
        """The judges now: a role bound at eval time wins over the judges resolved at build time."""
        return self._current()[0]

    def _current(self) -> tuple[list[Model], str]:
        bound = model_roles().get(self.role)
        if isinstance(bound, Model):
            bound = [bound]
        if bound:
            judges = list(bound)
            if self.source != "role" and not self._announced:
                self._announced = True
                logger.warning(
                    "judges bound to role %s (%s) replace judge_model (%s)",
                    self.role,
                    ", ".join(map(str, judges)),
                    ", ".join(self.requested),
                )
            return judges, "role"
        return self.judges, self.source

    def panel(self, *, max_retries: int | None = None) -> JudgePanel:
        """A panel of the current judges (`max_retries` overrides the setup's, e.g. 0 for ask-once profiles)."""
        return JudgePanel(
            self.current_judges(),
            defaults=self.defaults,
            max_retries=self.max_retries if max_retries is None else max_retries,
            cache=self.cache,
            cache_scope=self.cache_scope,
        )

    async def ask(
        self, prompt: str | list[ChatMessage], parse: Callable[[str], T], *, max_retries: int | None = None
    ) -> list[JudgeVerdict[T]]:
        """Every current judge's verdict on `prompt`, asked concurrently, in panel order."""
        return await self.panel(max_retries=max_retries).ask(prompt, parse)

    def metadata(self) -> dict[str, Any]:
        """JSON-ready record of who judges and how: for the eval metadata and every score's metadata."""
        judges, source = self._current()
        return {
            "judges": [str(j) for j in judges],
            "source": source,
            "role": self.role,
            "judge_model": self.requested or None,
            "preset": self.preset,
            "generate_config": [_config_record(self.defaults.merge(j.config)) for j in judges],
            "max_retries": self.max_retries,
            "cache": self.cache,
        }


def judge_setup(
    judge_model: str | Sequence[str] | None,
    *,
    role: str = JUDGE_ROLE,
    presets: Mapping[str, Sequence[str]] | None = None,
    defaults: GenerateConfig | None = None,
    cache: Any = True,
    max_retries: Any = 2,
    cache_scope: str = "",
) -> JudgeSetup:
    """Resolve and check the judges (call when the task is built). Raises `JudgeConfigError` / `TaskArgError`.

    `cache` and `max_retries` are the raw `judge_cache` / `judge_max_retries` task arguments (checked here).
    """
    cache_value = taskargs.cache_setting("judge_cache", cache)
    retries = taskargs.integer("judge_max_retries", max_retries, minimum=0)
    if cache_value is not False:
        check_cache_writable()
    common: dict[str, Any] = {
        "role": role,
        "defaults": defaults or GenerateConfig(),
        "max_retries": retries,
        "cache": cache_value,
        "cache_scope": cache_scope,
    }
    names, preset = judge_names(judge_model, presets or {})
    bound = model_roles().get(role)
    if bound:
        judges = [bound] if isinstance(bound, Model) else list(bound)
        return JudgeSetup(judges, "role", requested=names, preset=preset, **common)
    if not names:
        raise JudgeConfigError(
            f"no judge: bind one with --model-role {role}=<provider/model> (or a comma-separated panel), "
            "or pass -T judge_model=<provider/model>"
        )
    judges = [checked_judge(name, role) for name in names]
    return JudgeSetup(judges, "judge_model", requested=names, preset=preset, **common)


def judge_names(judge_model: Any, presets: Mapping[str, Sequence[str]]) -> tuple[list[str], str | None]:
    """The judge names a `judge_model` argument asks for, and the preset it named (if any)."""
    if judge_model is None:
        return [], None
    if isinstance(judge_model, str):
        if judge_model in presets:
            return list(presets[judge_model]), judge_model
        items: list[Any] = judge_model.split(",")
    elif isinstance(judge_model, list | tuple):
        items = list(judge_model)
    else:
        items = [judge_model]
    names = [item.strip() if isinstance(item, str) else item for item in items]
    allowed = "use <provider>/<model>, a list of them" + (f", or a preset: {', '.join(presets)}" if presets else "")
    if not names or any(not isinstance(n, str) or not n for n in names):
        raise taskargs.TaskArgError("judge_model", judge_model, allowed)
    for name in names:
        if "/" not in name or name.startswith("/") or name.endswith("/"):
            raise taskargs.TaskArgError("judge_model", judge_model, f"{name!r} is not a model name; {allowed}")
    return names, None


def checked_judge(name: str, role: str = JUDGE_ROLE) -> Model:
    """The judge model `name`, constructed (no call made); any reason it cannot be used is one line."""
    provider = name.split("/", 1)[0]
    fix = f"or choose another judge with --model-role {role}=<provider/model> or -T judge_model=<provider/model>"
    package = PROVIDER_PACKAGES.get(provider)
    if package is not None and importlib.util.find_spec(package[0]) is None:
        raise JudgeConfigError(
            f"judge {name} needs the {package[0]} package: pip install 'medarc-inspect[{package[1]}]' ({fix})"
        )
    try:
        return get_model(name)
    except ValueError as exc:
        if "not recognized" in str(exc):
            raise JudgeConfigError(f"judge {name}: unknown model provider {provider!r} ({fix})") from None
        raise JudgeConfigError(f"judge {name} is not usable: {one_line(str(exc))} ({fix})") from None
    except Exception as exc:  # Inspect's PrerequisiteError (missing key or package) and provider init errors
        message = one_line(str(exc))
        variables = list(dict.fromkeys(_ENV_VAR.findall(message)))
        if variables and ("environment" in message or "defined" in message):
            raise JudgeConfigError(f"judge {name} needs credentials: set {' or '.join(variables)} ({fix})") from None
        raise JudgeConfigError(f"judge {name} is not usable: {message} ({fix})") from None


def check_cache_writable() -> None:
    """The Inspect model cache must accept files, or every cached judge call would fail."""
    try:
        root = cache_path()
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".medarc-write-check-"):
            pass
    except (OSError, ValueError) as exc:
        raise JudgeConfigError(
            f"judge_cache is on but the Inspect cache directory cannot be written ({exc}): set INSPECT_CACHE_DIR "
            "to a writable directory, or pass -T judge_cache=false"
        ) from None


def one_line(message: str) -> str:
    """Inspect's (rich-markup, multi-line) message as one plain line."""
    text = _MARKUP.sub("", message)
    text = re.sub(r"^\s*ERROR:\s*", "", text)
    return " ".join(text.split())


def _config_record(config: GenerateConfig) -> dict[str, Any]:
    return config.model_dump(exclude_none=True, exclude_defaults=True)
