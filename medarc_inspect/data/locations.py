"""Where pinned files live: the cache, the offline mirror, and the offline switch.

Environment variables are read at call time, so tests and users can change them at any moment. A relative
path in them is relative to the directory the command was started in (``$PWD``, else the working directory when
this module was imported), never to a later working directory: ``inspect eval path/to/task.py`` changes into the
task's directory before it imports the task.

- ``MEDARC_INSPECT_CACHE_DIR``: cache root (default: the platform user cache dir for ``medarc_inspect``).
- ``MEDARC_INSPECT_MIRROR``: optional read-only mirror root, laid out ``<host>/<path>``.
- ``MEDARC_INSPECT_OFFLINE``: ``1``/``true``/``yes``/``on`` forbids all network access.
"""

import os
import urllib.parse
from pathlib import Path, PurePosixPath

import platformdirs

from medarc_inspect.data.errors import DataError

CACHE_ENV = "MEDARC_INSPECT_CACHE_DIR"
MIRROR_ENV = "MEDARC_INSPECT_MIRROR"
OFFLINE_ENV = "MEDARC_INSPECT_OFFLINE"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _launch_dir() -> Path:
    shell_dir = os.environ.get("PWD", "")
    if shell_dir and os.path.isabs(shell_dir) and os.path.isdir(shell_dir):
        return Path(shell_dir)
    return Path(os.getcwd())


LAUNCH_DIR = _launch_dir()


def resolve_configured(value: str) -> Path:
    """A configured path: `~` expanded, and a relative one taken against `LAUNCH_DIR`."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else LAUNCH_DIR / path


def cache_dir() -> Path:
    """Root of the download cache (not created here)."""
    configured = os.environ.get(CACHE_ENV, "").strip()
    if configured:
        return resolve_configured(configured)
    return Path(platformdirs.user_cache_dir("medarc_inspect"))


def mirror_dir() -> Path | None:
    """Root of the offline mirror, or None when ``MEDARC_INSPECT_MIRROR`` is unset or empty."""
    configured = os.environ.get(MIRROR_ENV, "").strip()
    if not configured:
        return None
    root = resolve_configured(configured)
    if not root.is_dir():
        raise DataError(
            f"{MIRROR_ENV} is set to {configured!r} ({root}), which is not a directory. Point it at a directory "
            "laid out <host>/<path> (like shared/mirror) or unset it."
        )
    return root


def is_offline() -> bool:
    """True when ``MEDARC_INSPECT_OFFLINE`` asks for no network access."""
    value = os.environ.get(OFFLINE_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise DataError(f"{OFFLINE_ENV}={value!r} is not understood; use 1 (never use the network) or 0 / unset (allowed).")


def relative_path(url: str) -> PurePosixPath:
    """The ``<host>/<decoded path>`` location of ``url`` inside a cache or mirror root.

    Only plain http(s) URLs without query, fragment or credentials are accepted, and no path segment may
    be empty, ``.`` or ``..``, so the result can never escape the root or collide with another URL.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise DataError(f"Pinned URL {url!r} must be an absolute http(s) URL.")
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise DataError(f"Pinned URL {url!r} must not carry a query, fragment or credentials.")
    host = parts.netloc.lower()
    segments = [urllib.parse.unquote(segment) for segment in parts.path.split("/")[1:]]
    if not segments or any(_bad_segment(segment) for segment in [host, *segments]):
        raise DataError(
            f"Pinned URL {url!r} has a path that cannot be stored safely (empty, '.', '..', backslash "
            "or NUL segment after decoding)."
        )
    return PurePosixPath(host, *segments)


def _bad_segment(segment: str) -> bool:
    return segment in ("", ".", "..") or "/" in segment or "\\" in segment or "\0" in segment


def local_path(root: Path, url: str) -> Path:
    """Path of ``url`` under ``root`` (cache or mirror), laid out ``<host>/<decoded path>``."""
    return root.joinpath(*relative_path(url).parts)
