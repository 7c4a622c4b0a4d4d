"""The per-episode metrics file of a run folder: the contract between the graph and the supervisor.

The graph's recorder appends one row per finished episode to `<run-dir>/metrics.csv` (header
line first) or, alternatively, one JSON object per line to `<run-dir>/metrics.jsonl`. Columns:

| column | type | meaning |
|---|---|---|
| `episode` | int | episode number (the key; a row per episode) |
| `success` | 0/1 | the episode ended in success |
| `interventions` | int | operator-driven steps in the episode |
| `intervention_rate` | float | interventions / length |
| `length` | int | control steps in the episode |
| `autonomous` | 0/1 | no intervention at all in the episode |
| `updates_per_s` | float | learner updates/s when the episode ended |
| `wall_time` | float | seconds since the run started when the episode ended |

Extra columns (the recorder also writes `takeovers`, `holds`, `reason`, `policy_version`, ...)
are kept as they are (numbers parsed when they look like numbers). `read_metrics` tolerates a
missing file (no rows), a half-written last line and bad rows (skipped and counted), so a
supervisor can read the file of a run that is still being written. A CSV row is one line (a
stray quote spoils only its own line, never the rows after it); an integer column holding
`inf`, `nan` or `1e999` makes its row bad. `metrics.csv` is read when it exists, else
`metrics.jsonl`.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

COLUMNS = ("episode", "success", "interventions", "intervention_rate", "length", "autonomous",
           "updates_per_s", "wall_time")
_INTS = ("episode", "success", "interventions", "length", "autonomous")
_FLOATS = ("intervention_rate", "updates_per_s", "wall_time")
FILENAMES = ("metrics.csv", "metrics.jsonl")


@dataclass
class MetricsRead:
    path: Path | None
    rows: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0  # rows that could not be parsed


def metrics_path(run_dir: Path) -> Path | None:
    for name in FILENAMES:
        p = Path(run_dir) / name
        if p.exists():
            return p
    return None


def read_metrics(run_dir: Path) -> MetricsRead:
    """All rows of the run's metrics file, in file order (no file -> no rows)."""
    path = metrics_path(run_dir)
    if path is None:
        return MetricsRead(None)
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return MetricsRead(path)
    raw = _jsonl(text) if path.suffix == ".jsonl" else _csv(text)
    out = MetricsRead(path)
    for r in raw:
        row = normalize_row(r) if isinstance(r, dict) else None
        if row is None:
            out.skipped += 1
        else:
            out.rows.append(row)
    return out


def normalize_row(r: dict[str, Any]) -> dict[str, Any] | None:
    """Typed copy of a row (the contract columns as int/float), or None when it is unusable."""
    row: dict[str, Any] = {}
    try:
        for k in _INTS:
            if k in r and r[k] not in (None, ""):
                row[k] = _int(r[k])
        for k in _FLOATS:
            if k in r and r[k] not in (None, ""):
                row[k] = float(r[k])
    except (TypeError, ValueError, OverflowError):
        return None
    if "episode" not in row:
        return None
    for k, v in r.items():
        if k not in row and k is not None:
            row[k] = _maybe_number(v)
    return row


def _csv(text: str) -> list[dict]:
    lines = text.splitlines()
    if lines and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # a row still being written
    if not lines:
        return []
    header = _csv_line(lines[0])
    if not header:
        return [{} for _ in lines[1:]]
    rows = []
    for line in lines[1:]:
        if not line.strip():
            continue
        values = _csv_line(line)  # one line at a time: a stray quote cannot swallow later rows
        rows.append(dict(zip(header, values)) if values is not None and len(values) == len(header) else {})
    return rows


def _csv_line(line: str) -> list[str] | None:
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return None


def _jsonl(text: str) -> list[Any]:
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except (ValueError, RecursionError):  # bad JSON, an int over Python's digit limit, deep nesting
            rows.append(None)
    return rows


def _int(v: Any) -> int:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, str) and v.strip().lower() in ("true", "false"):
        return int(v.strip().lower() == "true")
    f = float(v)
    if not math.isfinite(f) or f != int(f):
        raise ValueError(f"not an integer: {v!r}")
    return int(f)


def _maybe_number(v: Any) -> Any:
    if not isinstance(v, str):
        return v
    try:
        f = float(v)
    except ValueError:
        return v
    return int(f) if f.is_integer() and "." not in v and "e" not in v.lower() else f
