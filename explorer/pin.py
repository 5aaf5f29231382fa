"""The run every page opens on. By default the best completed run (highest test accuracy among the runs
with weights), not the newest, which may be a poor sweep point or a stopped run. A user can pin one run, or
"the best run of a tag" (a teacher's run for a class), in the runs root's `.pin.json` (written atomically,
validated on read; a name starting with "." is never a run). Pages, the run picker and
`explorer runs pin RUN | --tag T | --clear` all go through this module; `runs list` shows the choice.
No streamlit here."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explorer.io import atomic_write_json
from explorer.runs import Run, RunInfo, clean_tag, open_run, runs_root
from explorer.untrusted import CREATED_FORMAT

PIN_FILE = ".pin.json"
MAX_PIN_BYTES = 4096
MAX_TEXT = 200
CLEAR_HINT = "pin again or clear it (Pin on any run page, or `python -m explorer runs pin --clear`)"


class PinError(ValueError):
    """The pin file is unreadable or malformed (the message names the file and what to do)."""


@dataclass(frozen=True)
class Pin:
    """What the pages open on: one run (run_id) or the best run of a tag (tag); exactly one is set."""

    run_id: str = ""
    tag: str = ""

    def describe(self) -> str:
        """'run 2026...-lenet5' or 'the best run tagged class-a'."""
        return f"run {self.run_id}" if self.run_id else f"the best run tagged {self.tag!r}"


@dataclass(frozen=True)
class Choice:
    """The run the pages open on, why (a short phrase for a caption), and a note when a pin could not be followed."""

    run: RunInfo | None
    reason: str
    note: str = ""
    pin: Pin | None = None


def pin_path(root: str | os.PathLike | None = None) -> Path:
    """The pin file of a runs root."""
    return runs_root(root) / PIN_FILE


def _text(value: Any, key: str, path: Path) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or len(value) > MAX_TEXT or any(c in value for c in "/\\\n\r\t\x00"):
        raise PinError(f"{path}: {key!r} must be a short name without separators, got {str(value)[:60]!r}; {CLEAR_HINT}")
    return value


def read_pin(root: str | os.PathLike | None = None) -> Pin | None:
    """The pin of a runs root, None when nothing is pinned; PinError for a damaged file."""
    path = pin_path(root)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PinError(f"{path}: cannot be read ({exc}); {CLEAR_HINT}") from exc
    if len(raw) > MAX_PIN_BYTES:
        raise PinError(f"{path}: {len(raw):,} bytes, at most {MAX_PIN_BYTES:,}; {CLEAR_HINT}")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PinError(f"{path}: not valid JSON ({exc}); {CLEAR_HINT}") from exc
    if not isinstance(data, dict) or set(data) - {"run_id", "tag", "pinned_at"}:
        raise PinError(f"{path}: must be an object with \"run_id\" or \"tag\"; {CLEAR_HINT}")
    pin = Pin(_text(data.get("run_id"), "run_id", path), _text(data.get("tag"), "tag", path))
    if bool(pin.run_id) == bool(pin.tag):
        raise PinError(f"{path}: needs exactly one of \"run_id\" and \"tag\"; {CLEAR_HINT}")
    return pin


def set_pin(root: str | os.PathLike | None = None, run: str | None = None, tag: str | None = None) -> Pin:
    """Pin a run (id, unique id prefix or folder) or a tag (at least one run must carry it); written atomically.
    ValueError/FileNotFoundError with the reason when the run or tag does not exist."""
    if bool(run) == bool(tag):
        raise ValueError("pin either a run or a tag (--tag), not both or neither")
    if run:
        opened = open_run(run, root)
        pin = Pin(run_id=opened.run_id)
    else:
        from explorer.runs import list_runs

        clean = clean_tag(str(tag))
        tagged = [i for i in list_runs(root) if clean in i.tags]
        if not tagged:
            raise ValueError(f"no run is tagged {clean!r}; tag one first (`explorer runs tag RUN {clean}`)")
        pin = Pin(tag=clean)
    body = {"run_id": pin.run_id or None, "tag": pin.tag or None, "pinned_at": time.strftime(CREATED_FORMAT)}
    runs_root(root).mkdir(parents=True, exist_ok=True)
    atomic_write_json(pin_path(root), body)
    return pin


def clear_pin(root: str | os.PathLike | None = None) -> bool:
    """Remove the pin (True when there was one)."""
    try:
        pin_path(root).unlink()
        return True
    except FileNotFoundError:
        return False


def has_weights(info: RunInfo) -> bool:
    """The run has a best (or last) weights file: a model to open."""
    try:
        Run(info.path).weights_path("best")
        return True
    except (FileNotFoundError, ValueError, OSError):
        return False


def ranked(infos: Sequence[RunInfo]) -> list[RunInfo]:
    """Completed runs with weights and a test accuracy, best first (ties: the newer first; infos come newest first)."""
    done = [i for i in infos if i.readable and i.status == "completed" and i.test_acc is not None and has_weights(i)]
    return sorted(done, key=lambda i: -float(i.test_acc or 0.0))


def best_run(infos: Sequence[RunInfo], tag: str | None = None) -> RunInfo | None:
    """The best completed run with weights by test accuracy (of the runs carrying `tag`, if given)."""
    pool = [i for i in infos if tag is None or tag in i.tags]
    best = ranked(pool)
    return best[0] if best else None


def _fallback(infos: Sequence[RunInfo]) -> Choice:
    best = best_run(infos)
    if best is not None:
        return Choice(best, f"the best completed run (test {float(best.test_acc or 0):.1%})")
    usable = [i for i in infos if i.readable and has_weights(i)] or [i for i in infos if i.readable]
    return Choice(usable[0] if usable else None, "the newest run (none has finished with a test accuracy yet)")


def default_run(infos: Sequence[RunInfo], root: str | os.PathLike | None = None) -> Choice:
    """The run pages open on: the pinned run, the best run of the pinned tag, else the best completed run.
    A pin that cannot be followed (run deleted, no run left with the tag, a damaged pin file) falls back, with
    a note saying why."""
    try:
        pin = read_pin(root)
    except PinError as exc:
        choice = _fallback(infos)
        return Choice(choice.run, choice.reason, f"The pin is ignored: {exc}")
    if pin is None:
        return _fallback(infos)
    if pin.run_id:
        hit = next((i for i in infos if i.run_id == pin.run_id and i.readable), None)
        if hit is not None:
            return Choice(hit, "pinned", pin=pin)
        choice = _fallback(infos)
        return Choice(choice.run, choice.reason, f"The pinned run {pin.run_id} is not in the runs folder any more "
                      f"(deleted or unreadable); pages open on {choice.reason}.", pin)
    best = best_run(infos, pin.tag)
    if best is not None:
        return Choice(best, f"the best run tagged {pin.tag!r} (pinned)", pin=pin)
    choice = _fallback(infos)
    return Choice(choice.run, choice.reason, f"No finished run with weights is tagged {pin.tag!r}; pages open on "
                  f"{choice.reason}.", pin)


def default_pair(infos: Sequence[RunInfo], root: str | os.PathLike | None = None) -> list[str]:
    """The runs Compare runs starts with: the default run and the best other completed run (same dataset first).
    Never a stopped, failed or running run; fewer than two ids when fewer than two runs finished."""
    first = default_run(infos, root).run
    done = ranked(infos)
    if first is None or first.status != "completed":
        return [i.run_id for i in done[:2]]
    others = sorted((i for i in done if i.run_id != first.run_id), key=lambda i: i.dataset != first.dataset)
    return [first.run_id] + [i.run_id for i in others[:1]]
