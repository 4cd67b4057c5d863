"""The judge panel: who judges, asking every judge at once, bounded re-asks, one verdict record per judge."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, Literal, TypeVar

from inspect_ai.model import CachePolicy, ChatMessage, GenerateConfig, Model, get_model, model_roles

from medarc_inspect.errors import UserFacingError
from medarc_inspect.judging.gather import gather
from medarc_inspect.judging.parsing import JudgeParseError

T = TypeVar("T")
logger = logging.getLogger(__name__)

JUDGE_ROLE = "grader"
ErrorKind = Literal["unparseable", "api_error"]


class JudgeConfigError(UserFacingError, ValueError):
    """No judge could be determined, or the judge settings are invalid."""


class JudgeAPIError(Exception):
    """A judge's provider failed (raise it from custom providers or tests; provider SDK errors count too)."""


class JudgeCallError(RuntimeError):
    """A judge could not be asked for a reason that is not the judge's (cache, file system, settings): stops
    the run instead of being counted as a judge failure."""


# exceptions from these packages are the provider's (after Inspect's own retries)
PROVIDER_ERROR_MODULES = (
    "openai", "anthropic", "google", "groq", "mistralai", "together", "xai_sdk", "botocore", "httpx", "httpcore",
    "aiohttp", "grpc", "huggingface_hub",
)  # fmt: skip


def is_judge_api_error(exc: BaseException) -> bool:
    """True for a provider API failure (counted as a judge failure); False for a local one (stops the run)."""
    if isinstance(exc, JudgeAPIError | ConnectionError | TimeoutError):
        return True
    return any(cls.__module__.split(".")[0] in PROVIDER_ERROR_MODULES for cls in type(exc).__mro__ if cls is not object)


@dataclass
class JudgeVerdict(Generic[T]):
    """What one judge said about one sample."""

    judge_index: int
    judge_model: str
    parsed: T | None = None
    replies: list[str] = field(default_factory=list)
    attempts: int = 0
    error: str | None = None
    error_kind: ErrorKind | None = None
    upstream_crash: bool = False  # the reply would have crashed the reference harness (see judging.upstream)

    @property
    def ok(self) -> bool:
        return self.error_kind is None and self.parsed is not None

    def to_log(self) -> dict[str, Any]:
        """A JSON-ready record for `Score.metadata`."""
        record = asdict(self)
        if not isinstance(record["parsed"], dict | list | str | int | float | type(None)):
            record["parsed"] = repr(self.parsed)
        return record


def resolve_judges(judge_model: str | Sequence[str] | None, role: str = JUDGE_ROLE) -> list[Model]:
    """The judges: the models bound to `role` if any (one or a list), else the `judge_model` name(s).

    Never falls back to the model under test. Call inside a scorer (roles are bound per eval).
    """
    bound = model_roles().get(role)
    if isinstance(bound, Model):
        return [bound]
    if bound:
        return list(bound)
    names = [judge_model] if isinstance(judge_model, str) else list(judge_model or [])
    if not names:
        raise JudgeConfigError(
            f"no judge: bind one with --model-role {role}=<provider/model> (or a comma-separated panel), "
            "or pass -T judge_model=<provider/model>"
        )
    return [get_model(name) for name in names]


def judge_cache_policy(cache: bool | str) -> CachePolicy | None:
    """`True` caches judge calls for a week, a string is the expiry (e.g. "1M"), `False` turns caching off.

    Per epoch: an epoch is a repeat, so its judges are asked afresh even when the answer is the same as in an
    earlier epoch (a re-run of the same eval still replays each epoch from the cache).
    """
    if cache is False:
        return None
    return CachePolicy(expiry="1W" if cache is True else str(cache), per_epoch=True)


def attempt_cache(policy: CachePolicy | None, scopes: dict[str, str], attempt: int) -> CachePolicy | bool:
    """The cache for one attempt of one judge: `policy` with the attempt in its scope, so a re-ask reaches the
    model instead of replaying the reply it replaces (False when caching is off)."""
    if policy is None:
        return False
    return CachePolicy(expiry=policy.expiry, per_epoch=policy.per_epoch, scopes=scopes | {"attempt": str(attempt)})


class JudgePanel:
    """Asks every judge concurrently and re-asks a judge whose reply does not parse.

    Re-asks use a fresh cache scope (`attempt`), so they reach the model instead of replaying the bad reply,
    while a re-run of the same log replays every attempt from the cache. Generation settings: the
    `defaults` apply unless the judge's own binding (e.g. `--model-role grader={model: x, temperature: 1}`)
    sets them.
    """

    def __init__(
        self,
        judges: Sequence[Model],
        *,
        defaults: GenerateConfig | None = None,
        max_retries: int = 2,
        cache: bool | str = True,
        cache_scope: str = "v1",
    ) -> None:
        if max_retries < 0:
            raise JudgeConfigError(f"judge_max_retries must be >= 0, got {max_retries}")
        self.judges = list(judges)
        self.defaults = defaults or GenerateConfig()
        self.max_retries = max_retries
        self.cache = judge_cache_policy(cache)
        self.cache_scope = cache_scope
        self.configs = [self.defaults.merge(judge.config) for judge in self.judges]  # once, not per call

    async def ask(self, prompt: str | list[ChatMessage], parse: Callable[[str], T]) -> list[JudgeVerdict[T]]:
        """One verdict per judge, in panel order. `parse` raises JudgeParseError for an unusable reply."""
        return await gather(*(self._ask_one(i, judge, prompt, parse) for i, judge in enumerate(self.judges)))

    async def _ask_one(
        self, index: int, judge: Model, prompt: str | list[ChatMessage], parse: Callable[[str], T]
    ) -> JudgeVerdict[T]:
        verdict: JudgeVerdict[T] = JudgeVerdict(judge_index=index, judge_model=str(judge))
        config = self.configs[index]
        for attempt in range(self.max_retries + 1):
            verdict.attempts = attempt + 1
            try:
                output = await judge.generate(prompt, config=config, cache=self._cache_for(index, attempt))
            except Exception as exc:  # a judge API failure is counted and logged; any other failure stops the run
                if not is_judge_api_error(exc):
                    raise JudgeCallError(
                        f"judge {verdict.judge_model} could not be asked (not a judge failure): "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                verdict.error, verdict.error_kind = f"{type(exc).__name__}: {exc}", "api_error"
                logger.warning("judge %s (%d) failed: %s", verdict.judge_model, index, verdict.error)
                return verdict
            verdict.replies.append(output.completion)
            try:
                verdict.parsed = parse(output.completion)
            except JudgeParseError as exc:
                verdict.error, verdict.error_kind = str(exc), "unparseable"
                verdict.upstream_crash = bool(getattr(exc, "upstream_crash", False))
                continue
            verdict.error = verdict.error_kind = None
            verdict.upstream_crash = False
            return verdict
        return verdict

    def _cache_for(self, index: int, attempt: int) -> CachePolicy | bool:
        return attempt_cache(self.cache, {"prompt": self.cache_scope, "judge": str(index)}, attempt)
