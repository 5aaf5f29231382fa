"""The runs store: one folder per run under a runs root (default ./runs, env EXPLORER_RUNS). Create (staged
under .creating-p<pid>-* and renamed into place whole), open, list (every run read behind one guard: an
unreadable one is listed, never hidden), rename, tag, delete (only runs of the store: check_deletable), clean
what killed writers left (clean_stale), and the ONE guard of every output path a command writes (check_output).
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from explorer.io import (
    RUNS_ENV,
    atomic_write_json,
    clean_stale_temp,
    disk_full_guard,
    fault_point,
    process_start,
    runs_root,
    safe_name,
    temp_prefix,
)
from explorer.runs.checks import RunFileError
from explorer.runs.layout import CONFIG, DESIGN, STATUS, is_run_entry, is_run_folder
from explorer.runs.record import versions
from explorer.runs.run import Run, RunInfo
from explorer.untrusted import CREATED_FORMAT

__all__ = ["check_deletable", "check_output", "clean_stale", "clean_tag", "create_run", "delete_run",
           "existing_runs_root", "list_runs", "open_run", "place_run", "rename_run", "run_dirs", "tag_run"]


def create_run(config: Any, root: str | os.PathLike | None = None, name: str | None = None,
               tags: list[str] | None = None, sweep: dict[str, Any] | None = None,
               estimate: dict[str, Any] | None = None) -> Run:
    """Create a new run folder for a TrainConfig: config.json and status "running" (pid of this process).

    `sweep` ({"id", "point", "index"}) records the sweep a run belongs to (config.json "sweep"); `estimate`
    the time estimate shown before it started (explorer.train.estimate.RunEstimate.to_dict, config "estimate").
    """
    root_p = existing_runs_root(root)
    with disk_full_guard(root_p / CONFIG, "; no run was created"):
        root_p.mkdir(parents=True, exist_ok=True)
        label = name or getattr(config, "name", "") or ""
        base = f"{time.strftime('%Y%m%d-%H%M%S')}-{safe_name(label or config.model, default='run', max_len=48)}"
        clean = safe_name(label, default=base, max_len=80) if label else ""  # one cleaned name, top level and train
        cfg = {"run_id": base, "name": clean or base,
               "tags": [clean_tag(t) for t in tags or []],
               "created": time.strftime(CREATED_FORMAT), "train": {**config.to_dict(), "name": clean}, "data": {},
               "model": {"name": config.model}, "classes": [], "versions": versions(),
               **({"sweep": sweep} if sweep else {}), **({"estimate": estimate} if estimate else {})}
        spec = _model_spec(config.model)
        staging = Path(tempfile.mkdtemp(prefix=temp_prefix("creating"), dir=root_p))
        try:
            if spec is not None:
                atomic_write_json(staging / DESIGN, spec)
            atomic_write_json(staging / STATUS, {
                "status": "running", "error": None, "pid": os.getpid(), "pid_start": process_start(os.getpid()),
                "host": socket.gethostname(),
                "heartbeat": time.time(), "epoch": 0, "stage": 0, "phase": "starting",
            })  # fmt: skip
            return Run(place_run(staging, root_p, base, cfg, keep_name=bool(label)))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _model_spec(model: str) -> dict[str, Any] | None:
    """What the run must keep of its model (a design's JSON); None for a built-in network or an unknown name."""
    from explorer.models import UnknownModelError, model_spec

    try:
        return model_spec(model)
    except UnknownModelError:
        return None


def place_run(staging: Path, root_p: Path, base: str, cfg: dict[str, Any], keep_name: bool = True,
               suffix: str = "-") -> Path:
    """Rename a whole staged run folder to the first free id base, base-1, ... (config.json records the id);
    a run folder is never visible half-made."""
    for i in range(1000):
        run_id = base if i == 0 else f"{base}{suffix}{i}"
        if (root_p / run_id).exists():
            continue
        name = cfg.get("name") if keep_name else run_id
        atomic_write_json(staging / CONFIG, {**cfg, "run_id": run_id, "name": name})
        fault_point("create:staged")
        try:
            os.rename(staging, root_p / run_id)  # fails when another process took the id meanwhile
            return root_p / run_id
        except OSError:
            if not (root_p / run_id).exists():
                raise
    raise ValueError(f"could not find a free run id for {base!r} under {root_p}")


def open_run(ref: str | os.PathLike | Run, root: str | os.PathLike | None = None) -> Run:
    """Open a run by id (under the runs root) or by folder path."""
    if isinstance(ref, Run):
        return ref
    p = Path(ref)
    if (p / CONFIG).is_file():
        return Run(p)
    ref_s = str(ref)
    if "/" in ref_s or "\\" in ref_s or ".." in ref_s:
        raise FileNotFoundError(f"no run folder at {ref_s}")
    cand = runs_root(root) / ref_s
    if (cand / CONFIG).is_file():
        return Run(cand)
    matches = [r for r in run_dirs(root) if r.name.startswith(ref_s)]
    if len(matches) == 1:
        return Run(matches[0])
    hint = f" ({len(matches)} runs start with it)" if len(matches) > 1 else ""
    raise FileNotFoundError(f"no run {ref_s!r} under {runs_root(root)}{hint}; see `python -m explorer runs list`")


def existing_runs_root(root: str | os.PathLike | None = None) -> Path:
    """The runs root; NotADirectoryError (an OSError: one clear line) when that path is a file."""
    r = runs_root(root)
    if r.exists() and not r.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "the runs folder is a file, not a folder; point --runs or "
                                 f"${RUNS_ENV} at a folder", str(r))
    return r


def run_dirs(root: str | os.PathLike | None = None) -> list[Path]:
    """Folders under the runs root that hold a config.json."""
    r = existing_runs_root(root)
    if not r.is_dir():
        return []
    # a name starting with "." is a run being created, imported or deleted (or the locks): never a run
    return sorted(p for p in r.iterdir() if not p.name.startswith(".") and p.is_dir() and (p / CONFIG).is_file())


def clean_stale(root: str | os.PathLike | None = None) -> list[Path]:
    """Remove what killed processes left under the runs root: half-made run folders (.creating-*), import
    and pull staging (.import-*, .pull-*), half-deleted runs (.deleting-*) and temporary files inside run folders. Only files
    whose writer (the pid in their name) is gone are touched; pending checkpoint files stay for load_checkpoint."""
    removed = clean_stale_temp(runs_root(root))
    for p in run_dirs(root):
        removed += clean_stale_temp(p)
    return removed


def list_runs(root: str | os.PathLike | None = None) -> list[RunInfo]:
    """Every run under the root, newest first. Each is read behind one guard: a run with an unreadable
    file is listed with status "unreadable" and `error` naming the file and the reason (after the others).
    Stale temporary files of killed writers are cleaned first."""
    clean_stale(root)
    out = [_guarded_info(p) for p in run_dirs(root)]
    return sorted(out, key=lambda r: (r.readable, r.created, r.run_id), reverse=True)


def _guarded_info(path: Path) -> RunInfo:
    """Run(path).info(), or an "unreadable" row whose error says which file and why; never raises."""
    try:
        return Run(path).info()
    except Exception as exc:  # the one guard: whatever a damaged or foreign run folder holds
        msg = str(exc) if isinstance(exc, (RunFileError, OSError)) else f"{path}: {type(exc).__name__}: {exc}"
        return RunInfo(run_id=path.name, name=path.name, model="?", dataset="?", status="unreadable", created="",
                       epochs_done=0, epochs=0, best_val_acc=None, test_acc=None, path=str(path), error=msg[:500])


def rename_run(ref: str | Run, new_name: str, root: str | os.PathLike | None = None) -> Run:
    """Set a run's display name (made safe; the folder, i.e. the run id, stays)."""
    run = open_run(ref, root)
    run.update_config(name=safe_name(new_name, default=run.run_id))
    return run


def clean_tag(tag: str) -> str:
    """A tag as stored: safe_name of it (any script kept; separators and control characters refused)."""
    return safe_name(tag, default="tag", max_len=40)


def tag_run(ref: str | Run, add: list[str] | None = None, remove: list[str] | None = None,
            root: str | os.PathLike | None = None) -> Run:
    """Add and/or remove tags of a run."""
    run = open_run(ref, root)
    gone = {clean_tag(t) for t in remove or []} | set(remove or [])  # cleaned the same way as on add
    tags = [t for t in run.record.tags if t not in gone]
    for t in add or []:
        t = clean_tag(t)
        if t not in tags:
            tags.append(t)
    run.update_config(tags=tags)
    return run

def check_deletable(run: Run, root: str | os.PathLike | None = None) -> None:
    """Refuse (ValueError naming why) to delete what is not a run of the store: a folder outside the runs
    root, a link, a hidden name, or a folder holding anything a run folder never holds (a project's src/)."""
    root_p = runs_root(root).resolve()
    if run.path.is_symlink():
        raise ValueError(f"refused: {run.path} is a link, not a run folder of the store; remove the link itself")
    real = run.path.resolve()
    if real.parent != root_p or real.name.startswith("."):
        raise ValueError(f"refused: {run.path} is not a run of the runs folder {root_p}; only runs that "
                         "`python -m explorer runs list` shows there are deleted (pass --runs for another folder)")
    foreign = sorted(p.name + ("/" if p.is_dir() else "") for p in real.iterdir() if not is_run_entry(p))
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise ValueError(f"refused: {real} holds {shown}, which a run folder never holds; it is not deleted "
                         "(move what you want to keep out of it, or delete it by hand)")


def delete_run(ref: str | Run, root: str | os.PathLike | None = None, confirm: bool = False) -> None:
    """Delete a run of the store (check_deletable); needs confirm=True and refuses a run that is still running."""
    run = open_run(ref, root)
    if not confirm:
        raise ValueError(f"deleting run {run.run_id} needs confirmation (confirm=True / --yes)")
    check_deletable(run, root)
    if run.status["status"] == "running":
        raise ValueError(f"run {run.run_id} is still running; stop it first")
    # Rename first so a half-deleted folder never looks like a run.
    trash = run.path.with_name(f"{temp_prefix('deleting')}{run.run_id}")
    os.replace(run.path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _inside_run(path: Path) -> Path | None:
    """The run folder that `path` lies in (a folder holding config.json and status.json), if any."""
    for parent in path.resolve().parents:
        if is_run_folder(parent):
            return parent
    return None


def check_output(path: str | os.PathLike, force: bool = False, flag: str = "--out", folder: bool = False,
                 writes: tuple[str, ...] = (), allow: str | os.PathLike | None = None) -> Path:
    """The ONE guard of every output path a command writes (returns it as a Path; ValueError -> exit 2): never
    inside a run folder nor a run folder itself (`allow`: the one folder inside a run that the command owns,
    evaluate's RUN/evaluation), never over an existing file without force. A file output must not be a folder;
    a folder output (folder=True) must not be a file, and the names it `writes` there must not exist without force."""
    p = Path(path)
    owned = allow is not None and p.resolve() == Path(allow).resolve()
    owner = None if owned else (_inside_run(p) or (p.resolve() if is_run_folder(p.resolve()) else None))
    if owner is not None:
        raise ValueError(f"refused: {flag} {p} lies inside the run folder {owner}, whose files it would damage; "
                         "write somewhere else")
    if folder:
        if p.exists() and not p.is_dir():
            raise ValueError(f"refused: {flag} {p} is a file, not a folder; give a folder")
        there = [n for n in writes if (p / n).exists() or (p / n).is_symlink()]
        if there and not force and not owned:
            raise ValueError(f"refused: {p} already holds {', '.join(there)}; choose another folder or pass --force "
                             "to replace")
        return p
    if p.is_dir():
        raise ValueError(f"refused: {flag} {p} is a folder; give a file name such as {p / 'out'}")
    if (p.exists() or p.is_symlink()) and not force:
        raise ValueError(f"refused: {flag} {p} already exists; choose another name or pass --force to replace it")
    return p
