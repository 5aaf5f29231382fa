"""How runs and durations read to a person: one function for each, used by every page, legend and table.

`run_title` gives the user's name for a run, or "model - dataset - short date" when the run has no name
of its own (its stored name is then its long id). `format_duration` writes seconds as "3m 55s".
Nothing here imports torch or streamlit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

_ID_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})")
_CREATED = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def short_date(created: str, run_id: str = "") -> str:
    """"2026-11-29 12:53:23" (or a run id starting 20261129-125323) -> "29 Nov 12:53"; "" when neither parses."""
    m = _CREATED.match(str(created or "")) or _ID_DATE.match(str(run_id or ""))
    if not m:
        return ""
    month = int(m.group(2))
    if not 1 <= month <= 12:
        return ""
    return f"{int(m.group(3))} {_MONTHS[month - 1]} {m.group(4)}:{m.group(5)}"


def _fields(run: Any) -> tuple[str, str, str, str, str]:
    """(run_id, name, model, dataset, created) of a RunInfo, Run (through its record), RunData or config dict."""
    rec = getattr(run, "record", None)  # a Run's checked config.json (explorer.runs.RunRecord)
    if rec is not None:
        return rec.run_id, rec.name, rec.model_name, rec.dataset, rec.created
    if isinstance(run, Mapping):
        cfg: Mapping[str, Any] = run
    else:
        cfg = {}
    train = cfg.get("train") or {}
    train = train if isinstance(train, Mapping) else {}
    data = train.get("data") or {}
    data = data if isinstance(data, Mapping) else {}
    run_id = str(getattr(run, "run_id", None) or cfg.get("run_id") or "")
    name = str(getattr(run, "name", None) or cfg.get("name") or "")
    model = str(getattr(run, "model", None) if isinstance(getattr(run, "model", None), str) else train.get("model") or "?")
    dataset = str(getattr(run, "dataset", None) if isinstance(getattr(run, "dataset", None), str)
                  else data.get("name") or "?")
    created = str(getattr(run, "created", None) or cfg.get("created") or "")
    return run_id, name, model, dataset, created


def run_title(run: Any) -> str:
    """A run's readable name: the user's name, else "model - dataset - 29 Nov 12:53" (never the long id alone).

    `run` is a RunInfo, a Run, a compare RunData or a run's config dict.
    """
    run_id, name, model, dataset, created = _fields(run)
    if name and name != run_id:
        return name
    date = short_date(created, run_id)
    return " - ".join(p for p in (model, dataset, date) if p)


def title_line(run: Any) -> str:
    """One line of a run picker: run_title, the status unless completed, the test accuracy when known
    ("quick - letters-builtin - 29 Nov 12:53 · stopped · test 91.20%"). `run` is a RunInfo."""
    acc = getattr(run, "test_acc", None)
    status = getattr(run, "status", "completed")
    return (f"{run_title(run)}{'' if status == 'completed' else f' · {status}'}"
            f"{f' · test {acc:.2%}' if acc is not None else ''}")


def unique_titles(runs: list[Any]) -> list[str]:
    """run_title of each run; a title used twice gets the end of its run id appended (legends need distinct names)."""
    titles = [run_title(r) for r in runs]
    ids = [_fields(r)[0] for r in runs]
    return [f"{t} ({i[-6:] or i})" if titles.count(t) > 1 else t for t, i in zip(titles, ids, strict=True)]


def short_titles(titles: Sequence[str], limit: int = 36) -> list[str]:
    """Titles cut to `limit` characters with a middle ellipsis ("one-epoch-run-wit…name-that-differs"), still
    as distinct as the titles: where two would read alike, all keep more of their ends (a legend that cut run
    names at their end made "my-run-with-a-long-na…" of two different runs)."""
    titles = [str(t) for t in titles]

    def cut(t: str, n: int) -> str:
        return t if len(t) <= n else f"{t[:n - 1 - (n - 1) // 2]}…{t[len(t) - (n - 1) // 2:]}"

    wanted = len(set(titles))
    for n in range(max(limit, 3), max((len(t) for t in titles), default=0) + 1):
        out = [cut(t, n) for t in titles]
        if len(set(out)) == wanted:
            return out
    return titles


def plural(n: int, noun: str, many: str | None = None) -> str:
    """"1 run", "2 runs", "1,000 runs" ("1 trained run"; `many` for an irregular plural)."""
    return f"{n:,} {noun if n == 1 else many or noun + 's'}"


def format_duration(seconds: Any) -> str:
    """Seconds as "45s", "3m 55s", "1h 02m" or "3.5 days"; "-" when unknown (None, negative, NaN, not a number)."""
    try:
        s = float(seconds)
    except (TypeError, ValueError, OverflowError):
        return "-"
    if not math.isfinite(s) or s < 0:
        return "-"
    n = int(round(s))
    if n < 60:
        return f"{n}s"
    if n < 3600:
        return f"{n // 60}m {n % 60:02d}s"
    if n < 2 * 86400:
        return f"{n // 3600}h {n % 3600 // 60:02d}m"
    return f"{s / 86400:.1f} days"
