"""The persistent sweep queue: one folder per sweep under `<runs root>/.sweeps/<sweep id>/`.

sweep.json holds what the sweep is (base config, grid or search space, seeds, trials); queue.json
holds its items (point, state, run id), the paused/cancelled flags and the driver's pid. Every
write is atomic and every read-modify-write holds an OS lock (queue.lock), so the page, the CLI
and the driver can act on one queue at once, and a queue survives an app restart or a reboot.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from explorer.io import atomic_write_json, is_live, process_start, runs_root, safe_name

SWEEPS_DIR = ".sweeps"
SPEC, QUEUE, LOCK, BEAT = "sweep.json", "queue.json", "queue.lock", "driver.beat"  # BEAT: its mtime is the heartbeat
OPEN_STATES = ("pending", "running", "interrupted")  # still to do
DONE_STATES = ("completed", "failed", "stopped", "pruned", "cancelled")
STATES = OPEN_STATES + DONE_STATES


def sweeps_root(root: str | os.PathLike | None = None) -> Path:
    """The folder holding every sweep of a runs root."""
    return runs_root(root) / SWEEPS_DIR


class Sweep:
    """One sweep folder: its spec and its queue."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not (self.path / SPEC).is_file():
            raise FileNotFoundError(f"{self.path} is not a sweep folder (no {SPEC})")

    def __repr__(self) -> str:
        return f"Sweep({str(self.path)!r})"

    @property
    def sweep_id(self) -> str:
        """The sweep's id (its folder name)."""
        return self.path.name

    @property
    def root(self) -> Path:
        """The runs root the sweep's runs go to."""
        return self.path.parent.parent

    @property
    def spec(self) -> dict[str, Any]:
        """sweep.json as a dict."""
        return json.loads((self.path / SPEC).read_text("utf-8"))

    def read(self) -> dict[str, Any]:
        """queue.json (items, paused, cancelled, driver); malformed items from disk are left out."""
        try:
            q = json.loads((self.path / QUEUE).read_text("utf-8"))
        except (OSError, json.JSONDecodeError):
            q = {}
        if not isinstance(q, dict):
            q = {}
        items = q.get("items") if isinstance(q.get("items"), list) else []
        q["items"] = [i for i in items if isinstance(i, dict) and isinstance(i.get("index"), int)
                      and isinstance(i.get("point"), dict)]  # read back from disk: keep well-formed items only
        q.setdefault("paused", False)
        q.setdefault("cancelled", False)
        q.setdefault("driver", None)
        return q

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """Hold the queue's OS lock; yield queue.json as a dict and write it back atomically."""
        with open(self.path / LOCK, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                q = self.read()
                yield q
                atomic_write_json(self.path / QUEUE, q)
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def update(self, change: Callable[[dict[str, Any]], Any]) -> Any:
        """Apply `change(queue)` under the lock and save; returns what it returns."""
        with self._locked() as q:
            return change(q)

    # ---- state ----------------------------------------------------------------------------------
    def driver_alive(self, queue: dict[str, Any] | None = None) -> bool:
        """True when a driver process on this host works the queue now (explorer.io.is_live: its pid alive and
        the process that claimed it, its heartbeat, the mtime of driver.beat, recent)."""
        d = (queue if queue is not None else self.read()).get("driver") or {}
        return isinstance(d, dict) and d.get("host") == socket.gethostname() and _driver_live(d, self.path / BEAT)

    def beat(self) -> None:
        """The driver's heartbeat (touch driver.beat; never a rewrite of queue.json)."""
        try:
            os.utime(self.path / BEAT)
        except FileNotFoundError:
            (self.path / BEAT).touch()

    def items(self) -> list[dict[str, Any]]:
        """The items in queue order; a 'running' item without a live driver shows as 'interrupted'."""
        q = self.read()
        alive = self.driver_alive()
        out = []
        for item in q["items"]:
            item = dict(item)
            if item.get("state") == "running" and not alive:
                item["state"] = "interrupted"
            out.append(item)
        return out

    def counts(self) -> dict[str, int]:
        """How many items are in each state."""
        out = dict.fromkeys(STATES, 0)
        for item in self.items():
            out[item.get("state", "pending")] = out.get(item.get("state", "pending"), 0) + 1
        return out

    def state(self) -> str:
        """running, paused, cancelled, done or waiting (work left, no driver)."""
        q = self.read()
        if q["cancelled"]:
            return "cancelled"
        if self.driver_alive():
            return "pausing" if q["paused"] else "running"
        if q["paused"]:
            return "paused"
        open_left = any(i.get("state") in OPEN_STATES for i in q["items"])
        trials_left = self.spec.get("mode") == "optuna" and len(q["items"]) < int(self.spec.get("trials", 0))
        return "waiting" if open_left or trials_left else "done"

    # ---- actions (page, CLI) --------------------------------------------------------------------
    def pause(self, paused: bool = True) -> None:
        """Pause (the running item finishes, no new one starts) or un-pause."""
        self.update(lambda q: q.__setitem__("paused", paused))

    def cancel(self) -> None:
        """Cancel: pending items are cancelled and the running one is asked to stop."""
        def change(q: dict[str, Any]) -> None:
            q["cancelled"] = True
            for item in q["items"]:
                if item.get("state") == "pending":
                    item["state"] = "cancelled"
        self.update(change)

    def move(self, index: int, delta: int) -> None:
        """Move pending item `index` up (delta < 0) or down among the items; others keep their places."""
        def change(q: dict[str, Any]) -> None:
            items = q["items"]
            pos = next((i for i, it in enumerate(items) if it["index"] == index), None)
            if pos is None or items[pos].get("state") != "pending":
                raise ValueError(f"item {index} is not pending; only pending items can be moved")
            new = max(0, min(len(items) - 1, pos + delta))
            items.insert(new, items.pop(pos))
        self.update(change)

    # ---- driver side ----------------------------------------------------------------------------
    def claim(self) -> None:
        """Record this process as the queue's driver (a dead driver's running items become interrupted);
        ValueError when another live driver holds it."""
        me = {"pid": os.getpid(), "started": process_start(os.getpid()), "host": socket.gethostname(),
              "since": time.time()}

        def change(q: dict[str, Any]) -> None:
            d = q.get("driver") or {}
            if (isinstance(d, dict) and d.get("pid") != me["pid"] and d.get("host") == me["host"]
                    and _driver_live(d, self.path / BEAT)):
                raise ValueError(f"sweep {self.sweep_id} is already being run by process {d['pid']}")
            self.beat()
            q["driver"] = me
            for item in q["items"]:  # the previous driver is gone: what it ran was interrupted
                if item.get("state") == "running":
                    item["state"] = "interrupted"
        self.update(change)

    def release(self) -> None:
        """Drop this process as the driver."""
        def change(q: dict[str, Any]) -> None:
            if (q.get("driver") or {}).get("pid") == os.getpid():
                q["driver"] = None
        self.update(change)

    def mark(self, index: int, **fields: Any) -> None:
        """Merge `fields` into item `index`."""
        def change(q: dict[str, Any]) -> None:
            for item in q["items"]:
                if item["index"] == index:
                    item.update(fields)
        self.update(change)

    def add_item(self, point: dict[str, Any], **fields: Any) -> int:
        """Append an item (Optuna trials are added as they are asked); returns its index."""
        def change(q: dict[str, Any]) -> int:
            index = max((i["index"] for i in q["items"]), default=-1) + 1
            q["items"].append({"index": index, "point": point, "state": "pending", "run_id": None, **fields})
            return index
        return self.update(change)


def _driver_live(driver: dict[str, Any], beat_file: Path) -> bool:
    """A driver record is live by explorer.io.is_live, its heartbeat being driver.beat's mtime."""
    try:
        beat: float | None = beat_file.stat().st_mtime
    except OSError:
        beat = None
    return is_live(driver.get("pid"), beat, started=driver.get("started"))


def create_sweep(spec: dict[str, Any], points: list[dict[str, Any]], root: str | os.PathLike | None = None,
                 name: str = "") -> Sweep:
    """Write a new sweep folder: sweep.json (spec) and queue.json with one pending item per point."""
    base = sweeps_root(root)
    base.mkdir(parents=True, exist_ok=True)
    stem = f"sw-{time.strftime('%Y%m%d-%H%M%S')}-{safe_name(name or spec.get('mode', 'grid'), max_len=32)}"
    for i in range(1000):
        path = base / (stem if i == 0 else f"{stem}-{i}")
        try:
            path.mkdir()
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover
        raise RuntimeError(f"could not create a sweep folder under {base}")
    atomic_write_json(path / SPEC, {**spec, "sweep_id": path.name, "name": name or path.name,
                                    "created": time.strftime("%Y-%m-%d %H:%M:%S")})
    items = [{"index": i, "point": p, "state": "pending", "run_id": None} for i, p in enumerate(points)]
    atomic_write_json(path / QUEUE, {"items": items, "paused": False, "cancelled": False, "driver": None})
    return Sweep(path)


def list_sweeps(root: str | os.PathLike | None = None) -> list[Sweep]:
    """Every sweep under the runs root, newest first; unreadable folders are skipped."""
    base = sweeps_root(root)
    if not base.is_dir():
        return []
    out = [Sweep(p) for p in base.iterdir() if p.is_dir() and (p / SPEC).is_file()]
    return sorted(out, key=lambda s: s.sweep_id, reverse=True)


def open_sweep(ref: str | os.PathLike | Sweep, root: str | os.PathLike | None = None) -> Sweep:
    """Open a sweep by id (or a unique part of it, e.g. its name) or by folder."""
    if isinstance(ref, Sweep):
        return ref
    if (Path(ref) / SPEC).is_file():
        return Sweep(ref)
    ref_s = str(ref)
    if "/" in ref_s or ".." in ref_s:
        raise FileNotFoundError(f"no sweep folder at {ref_s}")
    matches = [s for s in list_sweeps(root) if ref_s in s.sweep_id]
    exact = [s for s in matches if s.sweep_id == ref_s]
    if exact or len(matches) == 1:
        return (exact or matches)[0]
    hint = f" ({len(matches)} sweeps match it)" if matches else ""
    raise FileNotFoundError(f"no sweep {ref_s!r} under {sweeps_root(root)}{hint}; see `python -m explorer sweep list`")
