"""Snapshot a live FHIR server (e.g. the MedAgentBench HAPI image) into one NDJSON file per type, all or nothing."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from medarc_inspect.fhir import loader
from medarc_inspect.fhir.errors import FhirDataError
from medarc_inspect.fhir.loader import data_files
from medarc_inspect.fhir.params import SUPPORTED_TYPES

log = logging.getLogger(__name__)
MAX_PAGES = 1_000_000
MANIFEST = loader.MANIFEST
MANIFEST_FORMAT = "medarc-inspect-fhir-export/1"
_TYPE = re.compile(r"[A-Z][A-Za-z]{0,63}")
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # FHIR's id datatype


class ExportError(RuntimeError):
    """The server could not be exported (HTTP error, non-Bundle answer, foreign or looping next link, bad id)."""


def export_server(
    base_url: str,
    out_dir: str | Path,
    resource_types: Sequence[str] = SUPPORTED_TYPES,
    page_size: int = 1000,
    client: httpx.Client | None = None,
    progress: Callable[[str, int], None] | None = None,
    force: bool = False,
) -> dict[str, int]:
    """Page through `Type?_count=page_size` for each type into `<out_dir>/<Type>.ndjson` plus `manifest.json`.

    All or nothing: everything is written to a temporary sibling directory that replaces `out_dir` only
    when every type succeeded; on any error or interruption `out_dir` is left as it was. A non-empty
    `out_dir` is refused unless `force`. Only `next` links on the same scheme, host and port as `base_url`
    are followed; a repeated `next` link or page, an entry without a valid id or of another type is an
    ExportError. Returns the count per type.
    """
    base = base_url if base_url.endswith("/") else base_url + "/"
    origin = _origin(base)
    if origin[0] not in ("http", "https") or not origin[1]:
        raise ExportError(f"not an http(s) FHIR base URL: {base_url!r}")
    for rtype in resource_types:
        if not _TYPE.fullmatch(rtype):
            raise ExportError(f"not a FHIR resource type name: {rtype!r}")
    if page_size < 1:
        raise ExportError(f"page size must be at least 1, not {page_size}")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise ExportError(f"{out} is not empty; choose an empty directory or pass --force to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.export-", dir=out.parent))
    own_client = client is None
    http = client or httpx.Client(timeout=120, headers={"Accept": "application/fhir+json"})
    counts: dict[str, int] = {}
    try:
        for rtype in resource_types:
            counts[rtype] = _export_type(http, base, origin, rtype, page_size, work, progress)
        manifest = {
            "format": MANIFEST_FORMAT,
            "source": base,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "counts": counts,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        _swap_into_place(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    finally:
        if own_client:
            http.close()
    return counts


def _swap_into_place(work: Path, out: Path) -> None:
    """Replace `out` by `work` (a sibling): the old content is removed only once the new one is in place."""
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        try:
            os.replace(work, out)
        except BaseException:
            os.replace(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(work, out)


def read_manifest(directory: str | Path) -> dict | None:
    """The export manifest of a directory, or None if it has none; FhirDataError if it is malformed."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
    except ValueError as e:
        raise FhirDataError(f"{path}: not valid JSON ({e})") from None
    counts = manifest.get("counts") if isinstance(manifest, dict) else None
    if manifest.get("format") != MANIFEST_FORMAT or not isinstance(counts, dict):
        raise FhirDataError(f"{path}: not a medarc-inspect export manifest")
    return manifest


def check_export(directory: str | Path, counts: dict[str, int]) -> None:
    """FhirDataError unless a directory with a manifest holds exactly the files and counts it lists."""
    manifest = read_manifest(directory)
    if manifest is None:
        return
    expected = {f"{t}.ndjson" for t in manifest["counts"]}
    present = {f.name for f in data_files(directory)}
    if present != expected:
        extra, missing = sorted(present - expected), sorted(expected - present)
        raise FhirDataError(
            f"{directory}: files do not match its export manifest (unexpected: {extra}, missing: {missing})"
        )
    for rtype, n in manifest["counts"].items():
        if counts.get(rtype, 0) != n:
            raise FhirDataError(
                f"{directory}: {rtype} has {counts.get(rtype, 0)} resources, its export manifest says {n}"
            )


def _export_type(
    http: httpx.Client,
    base: str,
    origin: tuple[str, str],
    rtype: str,
    page_size: int,
    out: Path,
    progress: Callable[[str, int], None] | None,
) -> int:
    seen: set[str] = set()
    seen_urls: set[str] = set()
    seen_pages: set[tuple[str, ...]] = set()
    duplicates = 0
    url: str | None = f"{base}{rtype}?_count={page_size}&_format=json"
    with (out / f"{rtype}.ndjson").open("wb") as fh:
        for _ in range(MAX_PAGES):
            if url is None:
                break
            seen_urls.add(url)
            bundle = _get_bundle(http, url)
            page: list[str] = []
            for entry in bundle.get("entry") or ():
                resource = entry.get("resource") if isinstance(entry, dict) else None
                if isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome":
                    continue  # search.mode = outcome: warnings about the search, not data
                if not isinstance(resource, dict) or resource.get("resourceType") != rtype:
                    found = resource.get("resourceType") if isinstance(resource, dict) else type(resource).__name__
                    raise ExportError(f"{url}: an entry of a {rtype} search is {found!r}, not a {rtype}")
                rid = resource.get("id")
                if not isinstance(rid, str) or not _ID.fullmatch(rid):
                    raise ExportError(f"{url}: a {rtype} entry has no valid id ({rid!r})")
                page.append(rid)
                if rid in seen:
                    duplicates += 1
                    continue
                seen.add(rid)
                fh.write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode() + b"\n")
            signature = tuple(page)
            if signature and signature in seen_pages:
                raise ExportError(f"{rtype}: the server sent the same page twice (at {url}); its paging loops")
            seen_pages.add(signature)
            if progress:
                progress(rtype, len(seen))
            url = _next_link(bundle, origin)
            if url is not None and url in seen_urls:
                raise ExportError(f"{rtype}: the next link repeats an earlier page ({url}); its paging loops")
        else:
            raise ExportError(f"{rtype}: more than {MAX_PAGES} pages; giving up")
    if duplicates:
        log.warning("%s: skipped %d resources repeated across pages", rtype, duplicates)
    return len(seen)


def _get_bundle(http: httpx.Client, url: str) -> dict:
    try:
        response = http.get(url)
    except httpx.HTTPError as e:
        raise ExportError(f"GET {url} failed: {e}") from None
    if response.status_code != 200:
        raise ExportError(f"GET {url} answered HTTP {response.status_code}: {response.text[:300]}")
    try:
        bundle = response.json()
    except ValueError:
        raise ExportError(f"GET {url} did not answer JSON") from None
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise ExportError(f"GET {url} did not answer a Bundle")
    return bundle


def _next_link(bundle: dict, origin: tuple[str, str]) -> str | None:
    for link in bundle.get("link") or ():
        if isinstance(link, dict) and link.get("relation") == "next" and isinstance(link.get("url"), str):
            url = link["url"]
            if _origin(url) != origin:
                raise ExportError(f"refusing to follow a next link to another server: {url}")
            return url
    return None


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()
