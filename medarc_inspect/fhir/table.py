"""Column store for one resource type: stored JSON bytes plus extracted search fields and indexes.

A row is an int. Each resource is kept once as its JSON bytes (what the server splices into Bundles);
search fields live in per-parameter columns (interned tuples, or int arrays for dates), and token and
reference values are indexed both globally and per patient, so `Observation?patient=X&code=Y` touches
only the matching rows.
"""

from __future__ import annotations

import bisect
import json
import threading
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from medarc_inspect.fhir.dates import MISSING
from medarc_inspect.fhir.errors import FhirDataError
from medarc_inspect.fhir.limits import PRETTY_CACHE_BYTES, Deadline
from medarc_inspect.fhir.params import SearchParam, params_for

ANY_SYSTEM = "\x00any"  # token alternative without `system|`: any system matches
# Token parameters with an index; the others (status, intent, gender, ...) are checked row by row.
INDEXED_TOKENS = frozenset({"code", "category", "identifier", "telecom"})
_CHUNK = 8192  # rows scanned between two deadline checks


@dataclass
class Filter:
    """One search parameter occurrence; its alternatives (comma-separated values) are ORed."""

    name: str
    kind: str  # token | reference | date | string | id
    alts: list
    modifier: str | None = None


@dataclass
class _DateColumn:
    lo: array = field(default_factory=lambda: array("q"))
    hi: array = field(default_factory=lambda: array("q"))
    multi: dict[int, tuple] = field(default_factory=dict)

    def append(self, row: int, ranges: tuple) -> None:
        if not ranges:
            self.lo.append(MISSING)
            self.hi.append(MISSING)
            return
        if len(ranges) == 1:
            lo, hi = ranges[0]
            self.lo.append(lo)
            self.hi.append(hi)
            return
        self.lo.append(min(r[0] for r in ranges))
        self.hi.append(max(r[1] for r in ranges))
        self.multi[row] = ranges

    def ranges(self, row: int) -> tuple:
        if self.multi and row in self.multi:
            return self.multi[row]
        lo = self.lo[row]
        return () if lo == MISSING else ((lo, self.hi[row]),)


def _single_range_predicate(col: _DateColumn, prefix: str, lo: int, hi: int) -> Callable[[int], bool]:
    """`range_matches` for one searched range over rows holding one range each, unrolled for speed."""
    a, b = col.lo, col.hi  # a row without a value has a == b == MISSING, below every real bound
    if prefix == "ge":
        return lambda r: b[r] > lo
    if prefix == "gt":
        return lambda r: b[r] > hi
    if prefix == "le":
        return lambda r: MISSING != a[r] < hi
    if prefix == "lt":
        return lambda r: MISSING != a[r] < lo
    if prefix == "eq":
        return lambda r: a[r] < hi and b[r] > lo
    if prefix == "ne":
        return lambda r: a[r] != MISSING and not (a[r] < hi and b[r] > lo)
    if prefix == "sa":
        return lambda r: a[r] >= hi
    return lambda r: MISSING != b[r] <= lo  # eb


def compile_date_alternatives(alts: list[tuple[str, int, int]]) -> Callable[[int, int], bool]:
    """One test for a stored range [a, b) against comma-ORed searched values, whatever their number.

    Each prefix's values collapse to one bound (`ge`: the smallest start, `le`: the largest end, ...);
    `eq` values become merged sorted intervals tested by bisection; `ne` fails only for a range that
    overlaps every `ne` value, that is one that starts before the smallest end and ends after the largest start.
    """
    by_prefix: dict[str, list[tuple[int, int]]] = {}
    for prefix, lo, hi in alts:
        by_prefix.setdefault(prefix, []).append((lo, hi))
    tests: list[Callable[[int, int], bool]] = []
    for prefix, ranges in by_prefix.items():
        los, his = [lo for lo, _ in ranges], [hi for _, hi in ranges]
        lo_min, lo_max, hi_min, hi_max = min(los), max(los), min(his), max(his)
        if prefix == "ge":
            tests.append(lambda a, b, x=lo_min: b > x)
        elif prefix == "gt":
            tests.append(lambda a, b, x=hi_min: b > x)
        elif prefix == "le":
            tests.append(lambda a, b, x=hi_max: a < x)
        elif prefix == "lt":
            tests.append(lambda a, b, x=lo_max: a < x)
        elif prefix == "sa":
            tests.append(lambda a, b, x=hi_min: a >= x)
        elif prefix == "eb":
            tests.append(lambda a, b, x=lo_max: b <= x)
        elif prefix == "ne":
            tests.append(lambda a, b, h=hi_min, lo=lo_max: not (a < h and b > lo))
        else:  # eq
            merged: list[list[int]] = []
            for lo, hi in sorted(ranges):
                if merged and lo <= merged[-1][1]:
                    merged[-1][1] = max(merged[-1][1], hi)
                else:
                    merged.append([lo, hi])
            starts, ends = [m[0] for m in merged], [m[1] for m in merged]

            def eq(a: int, b: int, starts: list = starts, ends: list = ends) -> bool:
                i = bisect.bisect_right(ends, a)  # the first interval ending after a
                return i < len(starts) and starts[i] < b

            tests.append(eq)

    def matches(a: int, b: int) -> bool:
        return a != MISSING and any(t(a, b) for t in tests)

    return matches


class ResourceTable:
    """All resources of one type in one store layer (the shared base, or one session's writes)."""

    def __init__(self, resource_type: str) -> None:
        self.resource_type = resource_type
        self.params: dict[str, SearchParam] = params_for(resource_type)
        self.ids: list[str] = []
        self.raw: list[bytes] = []
        self._pretty: OrderedDict[int, bytes] = OrderedDict()  # indented JSON of rows shown lately
        self._pretty_bytes = 0
        self._pretty_lock = threading.Lock()
        self.by_id: dict[str, int] = {}
        self._values: dict[str, list] = {n: [] for n, p in self.params.items() if p.kind != "date" and n != "subject"}
        self._dates: dict[str, _DateColumn] = {n: _DateColumn() for n, p in self.params.items() if p.kind == "date"}
        self._index: dict[tuple, array] = {}
        self._intern: dict[tuple, tuple] = {}
        self._indexed = {n for n, p in self.params.items() if p.kind == "reference" or n in INDEXED_TOKENS}
        # (name, extract, date column or None, value column or None, index kind or None), fixed per type
        self._plan_add = list(
            (
                n,
                p.extract,
                self._dates.get(n),
                self._values.get(n),
                p.kind if n in self._indexed and n in self._values else None,
            )
            for n, p in self.params.items()
            if n != "subject"
        )
        self._plan_add.sort(key=lambda item: item[4] != "reference")  # the patient first: token keys use it

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, resource: dict, raw: bytes) -> int:
        """Append a resource (its dict and its JSON bytes); returns the row."""
        rid = resource.get("id")
        if not isinstance(rid, str) or not rid:
            raise FhirDataError(f"{self.resource_type} resource has no string id")
        return self.add_extracted(rid, raw, self.extract(resource))

    def extract(self, resource: dict) -> list[tuple]:
        """The resource's search values, in this table's column order (what `add_extracted` takes)."""
        out = []
        for name, extract, *_ in self._plan_add:
            try:
                out.append(extract(resource))
            except ValueError as e:
                rid = resource.get("id")
                raise FhirDataError(f"{self.resource_type}/{rid}: bad value for search parameter {name}: {e}") from None
        return out

    def add_extracted(self, rid: str, raw: bytes, extracted: list[tuple]) -> int:
        """Append a resource given its id, JSON bytes and `extract()` result; returns the row."""
        if rid in self.by_id:
            raise FhirDataError(f"duplicate id {self.resource_type}/{rid}")
        row = len(self.ids)
        patient: tuple = ()
        intern, index = self._intern, self._index
        for (name, _, dates, column, indexed), value in zip(self._plan_add, extracted, strict=True):
            if dates is not None:
                dates.append(row, value)
                continue
            value = intern.setdefault(value, value)
            column.append(value)  # type: ignore[union-attr]
            if indexed is None:
                continue
            if indexed == "reference":
                patient = value
                keys = [(name, ref) for ref in value]
            else:
                keys = [(name, None, code) for _, code in value]
                keys += [(name, ref, code) for _, code in value for ref in patient]
            for key in keys:
                postings = index.get(key)
                if postings is None:
                    index[key] = array("I", (row,))
                elif postings[-1] != row:  # a value repeated within one resource is posted once
                    postings.append(row)
        self.ids.append(rid)
        self.raw.append(raw)
        self.by_id[rid] = row
        return row

    # ---- bulk loading: tables built elsewhere (worker processes) are appended as segments ----------------

    def segment(self) -> dict:
        """This table's rows as plain picklable data (for `merge`)."""
        return {
            "type": self.resource_type,
            "ids": self.ids,
            "raw": self.raw,
            "values": self._values,
            "dates": {n: (c.lo, c.hi, c.multi) for n, c in self._dates.items()},
            "index": self._index,
        }

    def merge(self, segment: dict) -> None:
        """Append the rows of a `segment()` (its row numbers shift by our current length)."""
        ids = segment["ids"]
        offset = len(self.ids)
        if not self.by_id.keys().isdisjoint(ids):
            duplicate = next(i for i in ids if i in self.by_id)
            raise FhirDataError(f"duplicate id {self.resource_type}/{duplicate}")
        self.by_id.update(zip(ids, range(offset, offset + len(ids)), strict=True))
        self.ids.extend(ids)
        self.raw.extend(segment["raw"])
        for name, column in self._values.items():
            column.extend(segment["values"][name])
        for name, (lo, hi, multi) in segment["dates"].items():
            col = self._dates[name]
            col.lo.extend(lo)
            col.hi.extend(hi)
            col.multi.update((row + offset, ranges) for row, ranges in multi.items())
        shift = offset.__add__
        for key, rows in segment["index"].items():
            postings = self._index.get(key)
            if postings is None:
                postings = self._index[key] = array("I")
            postings.extend(array("I", map(shift, rows)) if offset else rows)

    # ---- search -------------------------------------------------------------------------------------

    def select(self, filters: list[Filter], deadline: Deadline | None = None) -> list[int]:
        """Rows matching every filter, in insertion order (checked against `deadline` as it scans)."""
        n = len(self.ids)  # rows appended while we scan are not ours to see
        candidates, done = self._plan(filters)
        preds = [self._predicate(f) for i, f in enumerate(filters) if i not in done]
        rows = range(n) if candidates is None else candidates
        if not preds:
            return list(rows)
        if len(preds) == 1:
            pred = preds[0]
        else:

            def pred(r: int) -> bool:
                return all(p(r) for p in preds)

        if deadline is None or len(rows) <= _CHUNK:
            return [r for r in rows if r < n and pred(r)]
        out: list[int] = []
        for start in range(0, len(rows), _CHUNK):
            deadline.check()
            out.extend(r for r in rows[start : start + _CHUNK] if r < n and pred(r))
        return out

    def estimate(self, filters: list[Filter]) -> int:
        """An upper bound on the rows a search scans (the smallest index lookup, else the whole table)."""
        best = len(self.ids)
        for f in filters:
            if f.modifier is not None:
                continue
            if f.kind == "id":
                best = min(best, len(f.alts))
            elif f.kind == "reference":
                best = min(best, sum(len(self._index.get((f.name, ref), ())) for ref in f.alts))
            elif f.kind == "token" and f.name in self._indexed and all(code is not None for _, code in f.alts):
                best = min(best, sum(len(self._index.get((f.name, None, code), ())) for _, code in f.alts))
        return best

    def _plan(self, filters: list[Filter]) -> tuple[Iterable[int] | None, set[int]]:
        """Pick the smallest index lookup; returns (candidate rows or None for a scan, filters it fully answers)."""
        refs = [(i, f) for i, f in enumerate(filters) if f.kind == "reference" and f.name == "patient"]
        patient_ref = refs[0][1].alts[0] if refs and len(refs[0][1].alts) == 1 else None
        best: tuple[int, list[int], set[int]] | None = None
        for i, f in enumerate(filters):
            if f.modifier is not None:
                continue
            if f.kind == "id":
                rows = sorted({self.by_id[x] for x in f.alts if x in self.by_id})
                used = {i}
            elif f.kind == "reference":
                rows = self._union((f.name, ref) for ref in f.alts)
                used = {i}
            elif f.kind == "token" and f.name in self._indexed and all(code is not None for _, code in f.alts):
                exact = all(sys == ANY_SYSTEM for sys, _ in f.alts)
                if patient_ref is not None:
                    rows = self._union((f.name, patient_ref, code) for _, code in f.alts)
                    used = {i, refs[0][0]} if exact else {refs[0][0]}
                else:
                    rows = self._union((f.name, None, code) for _, code in f.alts)
                    used = {i} if exact else set()
            else:
                continue
            if best is None or len(rows) < best[0]:
                best = (len(rows), rows, used)
        if best is None:
            return None, set()
        return best[1], best[2]

    def _union(self, keys: Iterable[tuple]) -> list[int]:
        lists = [self._index[k] for k in keys if k in self._index]
        if not lists:
            return []
        if len(lists) == 1:
            return lists[0]  # type: ignore[return-value]
        return sorted(set().union(*lists))

    def _predicate(self, f: Filter) -> Callable[[int], bool]:
        """A row test for one filter; comma-OR values are compiled once (sets, merged ranges), so the
        cost per row does not grow with their number."""
        if f.kind == "id":
            ids, wanted = self.ids, set(f.alts)
            return lambda r: ids[r] in wanted
        if f.kind == "date":
            col = self._dates[f.name]
            alts = f.alts
            if len(alts) == 1 and not col.multi:
                return _single_range_predicate(col, *alts[0])
            matches = compile_date_alternatives(alts)
            lo_col, hi_col = col.lo, col.hi
            if not col.multi:
                return lambda r: matches(lo_col[r], hi_col[r])

            def date_pred(r: int) -> bool:
                return any(matches(a, b) for a, b in col.ranges(r))

            return date_pred
        values = self._values[f.name]
        if f.kind == "reference":
            wanted = set(f.alts)
            return lambda r: not wanted.isdisjoint(values[r])
        if f.kind == "token":
            any_system = {code for sys, code in f.alts if sys == ANY_SYSTEM and code is not None}
            pairs = {(sys, code) for sys, code in f.alts if sys != ANY_SYSTEM and code is not None}
            systems = {sys for sys, code in f.alts if code is None}

            def token_pred(r: int) -> bool:  # a plain loop: faster than any() over a generator
                for sys, code in values[r]:  # noqa: SIM110
                    if code in any_system or (sys, code) in pairs or sys in systems:
                        return True
                return False

            if f.modifier == "not":
                return lambda r: not token_pred(r)
            return token_pred
        # string
        alts = f.alts
        if f.modifier == "contains":
            return lambda r: any(q in v for v in values[r] for q in alts)
        if f.modifier == "exact":
            raw_values = self._exact_strings(f.name)
            wanted_exact = set(alts)
            return lambda r: any(v in wanted_exact for v in raw_values(r))
        prefixes = tuple(alts)
        return lambda r: any(v.startswith(prefixes) for v in values[r])

    def _exact_strings(self, name: str) -> Callable[[int], tuple]:
        """Unfolded string values of a row (for :exact), re-read from its JSON: rare, so not stored."""
        exact = self.params[name].exact or self.params[name].extract
        return lambda r: exact(json.loads(self.raw[r]))

    def sort_key(self, name: str) -> Callable[[int], int] | None:
        col = self._dates.get(name)
        if col is None:
            return None
        return col.lo.__getitem__

    # ---- output -------------------------------------------------------------------------------------

    def pretty(self, row: int) -> bytes:
        """Indented JSON of a row, computed on first use and kept in a bounded LRU cache
        (`PRETTY_CACHE_BYTES` per table: paging through everything with `_pretty` cannot grow memory)."""
        cache = self._pretty
        with self._pretty_lock:
            value = cache.get(row)
            if value is not None:
                cache.move_to_end(row)
                return value
        value = json.dumps(json.loads(self.raw[row]), indent=2, ensure_ascii=False).encode()
        with self._pretty_lock:
            if row not in cache:
                cache[row] = value
                self._pretty_bytes += len(value)
                while self._pretty_bytes > PRETTY_CACHE_BYTES and cache:
                    self._pretty_bytes -= len(cache.popitem(last=False)[1])
        return value

    @property
    def pretty_cache_bytes(self) -> int:
        return self._pretty_bytes
