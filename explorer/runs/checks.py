"""The checks of what a run folder holds: every JSON file of a run is read through here (untrusted input, also
our own folders after an import), and a damaged or mistyped file is a RunFileError naming the file, the reason
and what to do. Also the one rule of a run's effective status (running only while its worker is live)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from explorer.io import is_live
from explorer.runs.layout import STATUSES


def effective_status(status: dict[str, Any]) -> str:
    """The status to show: "running" becomes "interrupted" unless explorer.io.is_live says its worker is live
    (a recent heartbeat, not in the future, and on this host a live pid that is the process that wrote it)."""
    state = status.get("status", "interrupted")
    if state != "running":
        return state if state in STATUSES else "interrupted"
    here = status.get("host") == socket.gethostname()
    live = is_live(status.get("pid") if here else None, status.get("heartbeat"), started=status.get("pid_start"))
    return "running" if live else "interrupted"


OPTIMIZER_ADVICE = ("the run cannot resume from it: restore it from a backup or an export, or train a new run "
                    "with the same settings")
ADVICE = "restore it from a backup or an export, or delete the run (`python -m explorer runs delete RUN --yes`)"


class RunFileError(ValueError):
    """A file of a run folder cannot be used: the message names the file, what is wrong and what to do."""

    def __init__(self, path: str | os.PathLike, reason: str, advice: str = ADVICE) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: {reason}; {advice}")


def is_num(v: Any) -> bool:
    """A finite int or float (bool is not a number here)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v and abs(v) != float("inf")


def is_int(v: Any) -> bool:
    """An int (bool is not)."""
    return isinstance(v, int) and not isinstance(v, bool)


def type_name(v: Any) -> str:
    """A short description of a JSON value for messages: 'a list [1, 2]'."""
    kind = {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null"}
    return f"{kind.get(type(v), 'a number')} {json.dumps(v, default=str)[:40]}"


def read_json(path: Path) -> Any:
    """Parse a JSON file of a run; RunFileError (never a traceback) when it is unreadable or not JSON."""
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise
    except UnicodeDecodeError as exc:
        raise RunFileError(path, f"is not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise RunFileError(path, f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except OSError as exc:
        raise RunFileError(path, f"cannot be read ({exc.strerror or exc})") from None


def need(ok: bool, path: Path, what: str, value: Any) -> None:
    """Raise RunFileError(path, 'WHAT must be ..., got VALUE') unless ok."""
    if not ok:
        raise RunFileError(path, f"{what}, got {type_name(value)}")


def check_status(status: Any, path: Path) -> dict[str, Any]:
    """The one type check of status.json (status name, pid > 0, finite heartbeat, whole epoch); RunFileError."""
    need(isinstance(status, dict), path, "must hold a JSON object", status)
    state = status.get("status")
    need(state in STATUSES, path, f'"status" must be one of {", ".join(STATUSES)}', state)
    pid, beat = status.get("pid"), status.get("heartbeat")
    need(pid is None or (is_int(pid) and 0 < pid < 1 << 31), path, '"pid" must be a process id > 0 or null', pid)
    need(beat is None or is_num(beat), path, '"heartbeat" must be a time in seconds', beat)
    for key in ("epoch", "stage"):
        v = status.get(key)
        need(v is None or (is_int(v) and v >= 0), path, f'"{key}" must be a whole number >= 0', v)
    for key in ("error", "host", "phase", "device"):
        v = status.get(key)
        need(v is None or isinstance(v, str), path, f'"{key}" must be text or null', v)
    return status


def check_history_row(row: Any, path: Path, line: int) -> dict[str, Any]:
    """One history.jsonl record: an object with a whole epoch >= 1 and numbers (or null) for its metrics."""
    need(isinstance(row, dict), path, f"line {line} must be a JSON object", row)
    need(is_int(row.get("epoch")) and row["epoch"] >= 1, path, f'line {line}: "epoch" must be a whole number >= 1',
          row.get("epoch"))
    for key, v in row.items():
        if key != "stage_name" and v is not None:
            need(isinstance(v, (int, float)), path, f'line {line}: "{key}" must be a number', v)
    return row


def check_metrics(metrics: Any, path: Path) -> dict[str, Any]:
    """metrics.json: an object whose accuracy, loss, size and time values are numbers (or null)."""
    need(isinstance(metrics, dict), path, "must hold a JSON object", metrics)
    for key, v in metrics.items():
        if v is not None and key.endswith(("_acc", "_loss", "_size", "_s", "epoch")):
            need(isinstance(v, (int, float)) and not isinstance(v, bool), path, f'"{key}" must be a number', v)
    return metrics



def read_history(path: Path) -> list[dict[str, Any]]:
    """history.jsonl's rows, type-checked; a missing file is no rows, a torn last line is skipped, any other bad
    line (or more rows than the epochs a run can have, counted before any row is parsed) is a RunFileError."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise RunFileError(path, f"cannot be read as text ({type(exc).__name__})") from None
    lines = text.splitlines()
    from explorer.config import MAX_TOTAL_EPOCHS

    rows_n = sum(1 for line in lines if line.strip())
    if rows_n > MAX_TOTAL_EPOCHS:  # one row per epoch: more than a run can have is a damaged or foreign file
        raise RunFileError(path, f"{rows_n:,} rows, more than the {MAX_TOTAL_EPOCHS:,} epochs a run can have")
    rows = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            if i == len(lines) and not text.endswith("\n"):
                continue  # a torn last line from an older writer
            raise RunFileError(path, f"line {i} is not valid JSON ({exc.msg})") from None
        rows.append(check_history_row(row, path, i))
    return rows


def read_predictions(path: Path, k: int) -> tuple[Any, Any, Any]:
    """(y_true int64, y_prob float32, indices int64) of predictions.npz (loaded without pickle) after checking
    their dtypes, shapes ((N,), (N, k), (N,)) and ranges; RunFileError names the problem."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as z:
            a = {key: z[key] for key in ("y_true", "y_prob", "indices")}
    except KeyError as exc:
        raise RunFileError(path, f"has no array {exc}") from None
    except Exception as exc:  # BadZipFile, EOFError, ValueError (a pickle, refused), OSError ...
        raise RunFileError(path, f"is damaged or not a predictions file ({type(exc).__name__})") from None
    y_true, y_prob, indices = a["y_true"], a["y_prob"], a["indices"]
    if not all(x.dtype.kind in "iuf" for x in (y_true, y_prob, indices)):
        raise RunFileError(path, "holds arrays that are not numbers")
    n = len(y_true) if y_true.ndim == 1 else -1
    if n < 0 or y_prob.shape != (n, k) or indices.shape != (n,):
        raise RunFileError(path, f"has arrays of the wrong shapes (y_true {y_true.shape}, y_prob {y_prob.shape}, "
                                 f"indices {indices.shape}; expected (N,), (N, {k}), (N,))")
    if n and (y_true.min() < 0 or y_true.max() >= k or indices.min() < 0):
        raise RunFileError(path, f"has labels outside 0..{k - 1} or negative image indices")
    if not np.isfinite(y_prob).all():
        raise RunFileError(path, "has probabilities that are NaN or infinite")
    return y_true.astype(np.int64), y_prob.astype(np.float32), indices.astype(np.int64)


def read_design(path: Path) -> dict[str, Any] | None:
    """design.json of a run (the design a design:NAME model trained), checked like any untrusted file; None when
    the run has none (a built-in model); RunFileError when it is damaged."""
    if not path.is_file():
        return None
    from explorer.design import DesignError, read_design_file

    try:
        return read_design_file(path).to_dict()
    except DesignError as exc:
        raise RunFileError(path, str(exc), "restore the run's design.json or delete the run") from None
