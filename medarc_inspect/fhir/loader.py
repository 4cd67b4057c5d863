"""Read FHIR resources from a directory of NDJSON files (one resource a line) and/or Bundle JSON files."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from medarc_inspect.fhir.errors import FhirDataError

_SUFFIXES = (".ndjson", ".ndjson.gz", ".json")
MANIFEST = "manifest.json"  # an export's manifest (see export.py), not data


def compact(resource: dict) -> bytes:
    """Compact JSON bytes of a resource (how resources not read from NDJSON lines are stored)."""
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False).encode()


def data_files(path: str | Path) -> list[Path]:
    """The loadable files of a directory (sorted by name), or the file itself."""
    root = Path(path)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FhirDataError(f"FHIR data directory not found: {root}")
    files = sorted(p for p in root.iterdir() if p.is_file() and p.name.endswith(_SUFFIXES) and p.name != MANIFEST)
    if not files:
        raise FhirDataError(f"no *.ndjson, *.ndjson.gz or *.json files in {root}")
    return files


def iter_raw(path: str | Path) -> Iterator[tuple[dict, bytes | None, object]]:
    """(resource, its JSON bytes as stored in the file or None, where) for every resource; str(where) is
    "file:line" (or "file: entry[i]")."""
    for file in data_files(path):
        if file.name.endswith(".json"):
            yield from _bundle(file)
            continue
        opener = gzip.open if file.name.endswith(".gz") else open
        loads = json.loads
        with opener(file, "rb") as fh:
            for number, line in enumerate(fh, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    resource = loads(line)
                    ok = type(resource) is dict and type(resource.get("resourceType")) is str
                    ok = ok and type(resource.get("id")) is str and resource["id"] != ""
                except ValueError as e:
                    raise FhirDataError(f"{file}:{number}: not valid JSON ({e})") from None
                if not ok:
                    _check(resource, f"{file}:{number}")
                yield resource, line, _Where(file, number)


class _Where:
    """`file:line`, formatted only when an error needs it."""

    __slots__ = ("file", "line")

    def __init__(self, file: Path, line: int) -> None:
        self.file, self.line = file, line

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def _bundle(file: Path) -> Iterator[tuple[dict, bytes | None, object]]:
    try:
        doc = json.loads(file.read_bytes())
    except ValueError as e:
        raise FhirDataError(f"{file}: not valid JSON ({e})") from None
    if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
        for i, entry in enumerate(doc.get("entry") or ()):
            where = f"{file}: entry[{i}]"
            resource = entry.get("resource") if isinstance(entry, dict) else None
            _check(resource, where)
            yield resource, None, where  # type: ignore[misc]
    else:
        _check(doc, str(file))
        yield doc, None, str(file)


def _check(resource: object, where: str) -> None:
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise FhirDataError(f"{where}: not a FHIR resource (a JSON object with resourceType)")
    if not isinstance(resource.get("id"), str) or not resource["id"]:
        raise FhirDataError(f"{where}: {resource['resourceType']} resource has no id")


def load_resources(path: str | Path) -> list[dict]:
    """All resources in a directory of NDJSON and/or Bundle JSON files (or one such file), in file order."""
    return [resource for resource, _, _ in iter_raw(path)]
