"""The shared, immutable base dataset: one ResourceTable per resource type."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from medarc_inspect.fhir.errors import FhirDataError
from medarc_inspect.fhir.loader import compact, data_files, iter_raw
from medarc_inspect.fhir.params import SUPPORTED_TYPES
from medarc_inspect.fhir.table import ResourceTable


@contextmanager
def _bulk_load() -> Iterator[None]:
    """Pause the cyclic GC while loading (nothing loaded forms cycles; it only costs time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class FhirStore:
    """Base resources shared read-only by every session. Build with `from_dir` or `from_resources`."""

    def __init__(self) -> None:
        self.tables: dict[str, ResourceTable] = {t: ResourceTable(t) for t in SUPPORTED_TYPES}
        self.next_id = 1  # first numeric id free for writes (above every numeric base id)
        self._frozen = False

    @classmethod
    def from_dir(cls, path: str | Path, workers: int | None = None) -> FhirStore:
        """Load a directory of NDJSON / Bundle JSON files (errors name the file and line).

        Large directories are parsed by `workers` processes (default: by size and CPU count; 0: none).
        """
        from medarc_inspect.fhir import parallel_load

        files = data_files(path)
        if workers is None:
            workers = parallel_load.default_workers(files)
        store = cls()
        with _bulk_load():
            if workers > 0:
                parallel_load.load(files, workers, store._merge)
            else:
                for resource, raw, where in iter_raw(path):
                    try:
                        store._add(resource, raw if raw is not None else compact(resource))
                    except FhirDataError as e:
                        raise FhirDataError(f"{where}: {e}") from None
        store._frozen = True
        if Path(path).is_dir():
            from medarc_inspect.fhir.export import check_export

            check_export(path, store.counts())  # an export directory must hold exactly what it exported
        return store

    @classmethod
    def from_resources(cls, resources: Iterable[dict]) -> FhirStore:
        """Build from resource dicts (each stored as compact JSON)."""
        store = cls()
        with _bulk_load():
            for resource in resources:
                if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                    raise FhirDataError(f"not a FHIR resource: {str(resource)[:80]}")
                store._add(resource, compact(resource))
        store._frozen = True
        return store

    def _add(self, resource: dict, raw: bytes) -> None:
        if self._frozen:
            raise RuntimeError("the base store is immutable; write through a FhirSession")
        rtype = resource["resourceType"]
        table = self.tables.get(rtype)
        if table is None:
            table = self.tables[rtype] = ResourceTable(rtype)
        table.add(resource, raw)
        rid = resource["id"]
        if rid.isdigit() and len(rid) < 19:
            self.next_id = max(self.next_id, int(rid) + 1)

    def _merge(self, segment: dict) -> None:
        rtype = segment["type"]
        table = self.tables.get(rtype)
        if table is None:
            table = self.tables[rtype] = ResourceTable(rtype)
        table.merge(segment)
        numeric = [int(i) for i in segment["ids"] if i.isdigit() and len(i) < 19]
        if numeric:
            self.next_id = max(self.next_id, max(numeric) + 1)

    @property
    def resource_types(self) -> tuple[str, ...]:
        return tuple(self.tables)

    def counts(self) -> dict[str, int]:
        return {t: len(table) for t, table in self.tables.items()}

    def __len__(self) -> int:
        return sum(len(t) for t in self.tables.values())
