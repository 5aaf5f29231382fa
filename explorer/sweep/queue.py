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
MAX_SPEC_BYTES, MAX_QUEUE_BYTES = 4 << 20, 256 << 20  # sweep.json / queue.json bigger than this are refused
ADVICE = "cancel it or delete its folder (the runs it made stay in the runs folder)"


class SweepFileError(ValueError):
    """sweep.json or queue.json of a sweep cannot be used: names the file, the reason and what to do."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}; {ADVICE}")


def _read_json(path: Path, cap: int) -> Any:
    """A sweep file's JSON (SweepFileError naming it when missing, too large or not JSON)."""
    try:
        size = path.stat().st_size
        if size > cap:
            raise SweepFileError(path, f"{size:,} bytes, more than the {cap:,} a sweep file may hold")
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise SweepFileError(path, "the file is missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SweepFileError(path, f"not valid JSON ({exc})") from None
    except OSError as exc:
        raise SweepFileError(path, f"cannot be read ({exc.strerror or exc})") from None


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def check_spec(spec: Any, path: Path) -> dict[str, Any]:
    """The one type check of sweep.json: a dict with mode grid|optuna, a base config dict, a whole size; an
    Optuna sweep's trials a whole number and its space a dict. SweepFileError names what is wrong."""
    def need(ok: bool, what: str, value: Any) -> None:
        if not ok:
            raise SweepFileError(path, f"{what}, got {json.dumps(value, default=str)[:80]}")
    need(isinstance(spec, dict), "it must hold a JSON object", type(spec).__name__)
    need(spec.get("mode") in ("grid", "optuna"), '"mode" must be "grid" or "optuna"', spec.get("mode"))
    if spec["mode"] == "optuna":
        need(_whole(spec.get("trials")) and spec["trials"] >= 0, '"trials" must be a whole number', spec.get("trials"))
        need(isinstance(spec.get("space"), dict), '"space" must be an object', spec.get("space"))
    need(isinstance(spec.get("base"), dict), '"base" must be a training config (an object)', spec.get("base"))
    need(spec.get("size") is None or _whole(spec["size"]) and spec["size"] >= 0, '"size" must be a whole number',
         spec.get("size"))
    need(isinstance(spec.get("name", ""), str), '"name" must be text', spec.get("name"))
    return spec


def check_queue(q: Any, path: Path) -> dict[str, Any]:
    """The one check of queue.json: SweepFileError when it is no queue at all (so nothing rewrites it); an item
    with wrong keys or types becomes a failed item whose error says why (the queue goes on without it)."""
    if not isinstance(q, dict) or not isinstance(q.get("items"), list):
        raise SweepFileError(path, 'it must be an object with an "items" list')
    seen: set[int] = set()
    top = max((i["index"] for i in q["items"] if isinstance(i, dict) and _whole(i.get("index"))), default=-1)
    items = []
    for pos, item in enumerate(q["items"]):
        problem = _item_problem(item, seen)
        if problem:
            keep = isinstance(item, dict) and _whole(item.get("index")) and item["index"] >= 0 \
                and item["index"] not in seen
            if not keep:
                top = max(top, -1) + 1
            point = item.get("point") if isinstance(item, dict) and isinstance(item.get("point"), dict) else {}
            item = {"index": item["index"] if keep else top, "point": point, "state": "failed", "run_id": None,
                    "error": f"a bad queue item (position {pos}): {problem}"}
        seen.add(item["index"])
        items.append(item)
    driver = q.get("driver")
    return {**q, "items": items, "paused": q.get("paused") is True, "cancelled": q.get("cancelled") is True,
            "driver": driver if isinstance(driver, dict) else None}


def _item_problem(item: Any, seen: set[int]) -> str:
    """Why a queue item cannot be run ("" when it can)."""
    if not isinstance(item, dict):
        return f"not an object ({type(item).__name__})"
    if item.get("state") == "failed" and isinstance(item.get("error"), str) and _whole(item.get("index")) \
            and item["index"] not in seen and isinstance(item.get("point"), dict):
        return ""  # already marked
    if not _whole(item.get("index")) or item["index"] < 0:
        return '"index" must be a whole number'
    if item["index"] in seen:
        return f'index {item["index"]} appears twice'
    if not isinstance(item.get("point"), dict) or not all(isinstance(k, str) for k in item["point"]):
        return '"point" must be an object of settings'
    bad = [k for k, v in item["point"].items() if not isinstance(v, str | int | float | bool)]
    if bad:
        return f'setting {bad[0]!r} of "point" must be a number, text or true/false'
    if item.get("state", "pending") not in STATES:
        return f'"state" must be one of {", ".join(STATES)}'
    if item.get("run_id") is not None and not isinstance(item["run_id"], str):
        return '"run_id" must be text'
    return ""


def sweeps_root(root: str | os.PathLike | None = None) -> Path:
    """The folder holding every sweep of a runs root."""
    return runs_root(root) / SWEEPS_DIR


_CACHE: dict[str, tuple[tuple[int, int, int], Any]] = {}  # file -> ((inode, mtime_ns, size), parsed value)


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

    def _cached(self, name: str, parse: Callable[[Path], Any]) -> Any:
        """The parsed file, parsed again only when it changed (a 10^5-item queue is read once)."""
        path = self.path / name
        try:
            st = path.stat()
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)  # an atomic write is a new inode
        except OSError:
            return parse(path)
        hit = _CACHE.get(str(path))
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = parse(path)
        if len(_CACHE) >= 64:
            _CACHE.clear()
        _CACHE[str(path)] = (stamp, value)
        return value

    @property
    def spec(self) -> dict[str, Any]:
        """sweep.json as a dict, checked (check_spec); SweepFileError names the file and the reason."""
        return dict(self._cached(SPEC, lambda p: check_spec(_read_json(p, MAX_SPEC_BYTES), p)))

    def read(self) -> dict[str, Any]:
        """queue.json (items, paused, cancelled, driver), checked (check_queue): SweepFileError when it is not a
        queue (then nothing rewrites it); bad items read as failed with the reason. Read-only: do not change
        the items in place (use update)."""
        return dict(self._cached(QUEUE, self._parse_queue))

    def _parse_queue(self, path: Path) -> dict[str, Any]:
        return check_queue(_read_json(path, MAX_QUEUE_BYTES), path)

    def problem(self) -> str | None:
        """Why the sweep cannot be read (its file and the reason), or None: pages and `sweep list` show it."""
        try:
            _ = self.spec, self.read()
        except SweepFileError as exc:
            return str(exc)
        return None

    @contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """Hold the queue's OS lock; yield queue.json as a dict and write it back atomically."""
        with open(self.path / LOCK, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                q = self._parse_queue(self.path / QUEUE)  # a fresh parse (SweepFileError: nothing is written)
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
        try:
            d = (queue if queue is not None else self.read()).get("driver") or {}
        except SweepFileError:
            return False
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
        alive = self.driver_alive(q)
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
        """running, paused, cancelled, done, waiting (work left, no driver) or unreadable (see problem())."""
        try:
            q, spec = self.read(), self.spec
        except SweepFileError:
            return "unreadable"
        if q["cancelled"]:
            return "cancelled"
        if self.driver_alive(q):
            return "pausing" if q["paused"] else "running"
        if q["paused"]:
            return "paused"
        open_left = any(i.get("state") in OPEN_STATES for i in q["items"])
        trials_left = spec["mode"] == "optuna" and len(q["items"]) < int(spec.get("trials", 0))
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
    """Every sweep under the runs root, newest first, damaged ones too (Sweep.problem() says why)."""
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
