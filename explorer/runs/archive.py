"""Run archives: one zip per run (export_run to a file, export_run_bytes in memory) and import_run, which
treats the zip as untrusted input: member names, declared and streamed sizes (IMPORT_CAPS per file,
MAX_IMPORT_BYTES, MAX_RATIO), formats (nothing unpickled), the training config, the design and every display
string are checked in a staging folder (.import-p<pid>-*) before the run is renamed into the runs root whole.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import time
import zipfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from explorer.io import DiskFullError, atomic_path, atomic_write_json, disk_full_guard, safe_name, temp_prefix
from explorer.runs.layout import CONFIG, DESIGN, RUN_DIRS, RUN_EXTRA, RUN_FILES, STATUS, pending
from explorer.runs.run import Run
from explorer.runs.store import check_output, existing_runs_root, open_run, place_run
from explorer.untrusted import CREATED_FORMAT, run_strings_problems

__all__ = ["IMPORT_CAPS", "MAX_IMPORT_BYTES", "MAX_RATIO", "export_run", "export_run_bytes", "import_run"]

ALLOWED_SUFFIXES = (".json", ".jsonl", ".safetensors", ".npz", ".pt")
MiB = 1 << 20
# What a real run folder needs, per file (the largest registry model, VGG-19 at 26 classes, is ~560 MB of float32
# weights; Adam keeps two more copies; history: at most 1000 epochs of ~1 KiB rows; predictions: the largest test
# split x its classes in float32). A zip asking for more is refused before anything is unpacked.
IMPORT_CAPS = {"config.json": 1 * MiB, "status.json": 1 * MiB, "metrics.json": 4 * MiB, "history.jsonl": 8 * MiB,
               "predictions.npz": 512 * MiB, "weights_best.safetensors": 1024 * MiB,
               "weights_last.safetensors": 1024 * MiB, "optimizer_last.pt": 3072 * MiB, "design.json": 64 * 1024}
MAX_IMPORT_BYTES = 4096 * MiB  # the whole folder
MAX_RATIO = 50.0  # uncompressed/compressed: weights and predictions barely compress, JSON about 5-10x
RATIO_FROM = 1 * MiB  # files smaller than this are not held to the ratio


def _write_zip(run: Run, zf: zipfile.ZipFile) -> None:
    """The run's files into an open zip, under <run_id>/."""
    for name in sorted(RUN_FILES):
        f = run.path / name
        if f.is_file():
            zf.write(f, f"{run.run_id}/{name}")


def export_run(ref: str | Run, dest: str | os.PathLike | None = None, root: str | os.PathLike | None = None,
               force: bool = False) -> Path:
    """Write one zip of the run's files (folder <run_id>/ inside); returns its path. An existing file is
    replaced only with force=True; nothing is ever written inside a run folder. A full disk is a DiskFullError."""
    run = open_run(ref, root)
    dest_p = Path(dest) if dest else Path(f"{run.run_id}.zip")
    if dest_p.is_dir():
        dest_p = dest_p / f"{run.run_id}.zip"
    check_output(dest_p, force, flag="--output")
    with atomic_path(dest_p) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        _write_zip(run, zf)
    return dest_p


def export_run_bytes(ref: str | Run, root: str | os.PathLike | None = None) -> tuple[str, bytes]:
    """The run zip of export_run built in memory (no file left anywhere) -> (file name, bytes)."""
    run = open_run(ref, root)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        _write_zip(run, zf)
    return f"{run.run_id}.zip", buf.getvalue()


def _check_member(info: zipfile.ZipInfo) -> tuple[str, str]:
    """Validate one zip member name -> (folder, file name) or raise ValueError."""
    name = info.filename
    if name.startswith(("/", "\\")) or "\\" in name or ":" in name:
        raise ValueError(f"refused: zip member {name!r} has an absolute or Windows path")
    parts = name.split("/")
    if any(p in ("..", ".", "") for p in parts):
        raise ValueError(f"refused: zip member {name!r} has '..', '.' or an empty path part")
    if len(parts) != 2:
        raise ValueError(f"refused: zip member {name!r} is not <run_id>/<file>")
    folder, fname = parts
    if fname not in RUN_FILES or not fname.endswith(ALLOWED_SUFFIXES):
        raise ValueError(f"refused: zip member {name!r} is not a run file ({', '.join(sorted(RUN_FILES))})")
    if safe_name(folder) != folder:
        raise ValueError(f"refused: run folder name {folder!r} is not safe")
    return folder, fname


def _verify_file(path: Path) -> None:
    """Check that an imported file parses as what its name says, without unpickling anything."""
    import torch

    name = path.name
    try:
        if name.endswith(".jsonl"):
            for line in path.read_text("utf-8").splitlines():
                if line.strip():
                    json.loads(line)
        elif name.endswith(".json"):
            json.loads(path.read_text("utf-8"))
        elif name.endswith(".npz"):
            with np.load(path, allow_pickle=False) as z:
                for k in z.files:
                    _ = z[k]
        elif name.endswith(".safetensors"):
            from safetensors import safe_open

            with safe_open(str(path), framework="pt") as f:
                list(f.keys())
        elif name.endswith(".pt"):
            torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")[:200]  # one line (torch's are long)
        raise ValueError(f"refused: {name} is not a valid {path.suffix} file ({type(exc).__name__}: {first})") from exc


def import_run(zip_path: str | os.PathLike | bytes | BinaryIO, root: str | os.PathLike | None = None) -> Run:
    """Import a run zip made by export_run (a path, or its bytes: nothing is written outside the runs
    root); every member is checked (names, sizes, formats, display strings) before anything lands in
    the runs root. The data root becomes the local one. A clashing run id gets a suffix."""
    label = "the upload" if isinstance(zip_path, bytes | bytearray) or hasattr(zip_path, "read") else str(zip_path)
    source: Any = io.BytesIO(zip_path) if isinstance(zip_path, bytes | bytearray) else zip_path
    if not zipfile.is_zipfile(source):
        raise ValueError(f"{label} is not a zip file; choose a run zip made by Export (runs export)")
    with zipfile.ZipFile(source) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if not infos:
            raise ValueError(f"{label} is empty")
        folders = {_check_member(i)[0] for i in infos}
        if len(folders) != 1:
            raise ValueError(f"refused: the zip holds {len(folders)} top-level folders; expected one run")
        _check_sizes(infos)
        folder = folders.pop()
        if CONFIG not in {i.filename.split("/")[1] for i in infos}:
            raise ValueError("refused: the zip has no config.json")
        root_p = existing_runs_root(root)
        root_p.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=temp_prefix("import"), dir=root_p))
        try:
            with disk_full_guard(staging, "; nothing was imported"):
                for info in infos:
                    _, fname = _check_member(info)
                    _unpack_member(zf, info, staging / fname)
                path = _admit_staged(staging, root_p, folder, suffix="-imported-")
        except DiskFullError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise DiskFullError(root_p / exc.path.name, "; nothing was imported") from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Run(path)


def portable_files(entries: list[tuple[str, bool, int]]) -> list[tuple[str, int]]:
    """Of a run folder's listing from elsewhere [(name, is_folder, declared bytes)], the run files to bring
    (RUN_FILES, checked against the caps of an import): what only a local run folder holds (STOP, worker.log,
    temporary and pending files, cache/, val_epochs/, ...) is left behind; any other name is refused."""
    take: list[tuple[str, int]] = []
    for name, is_folder, size in entries:
        if not name or "/" in name or "\\" in name or ":" in name or name in (".", ".."):
            raise ValueError(f"refused: the run folder holds {name!r}, a name with a path in it")
        if is_folder:
            if name not in RUN_DIRS:
                raise ValueError(f"refused: the run folder holds a folder {name!r}, which a run folder never holds")
        elif name in RUN_FILES:
            take.append((name, int(size or 0)))
        elif not (name in RUN_EXTRA or name.startswith(".") or name in {pending(n) for n in RUN_FILES}):
            raise ValueError(f"refused: the run folder holds {name!r}, which is not a run file "
                             f"({', '.join(sorted(RUN_FILES))})")
    _check_declared(take)
    if CONFIG not in {n for n, _ in take}:
        raise ValueError("refused: the run folder has no config.json")
    return take


def _check_declared(files: list[tuple[str, int]], verb: str = "is", whole: str = "the run holds") -> None:
    """Refuse files whose (declared or actual) sizes pass a run file's cap or the whole folder's: the one size
    rule of a run from elsewhere (a zip's declared sizes, an MLflow listing, the staged files)."""
    total = 0
    for fname, size in files:
        cap = IMPORT_CAPS.get(fname, 1 * MiB)
        if size > cap:
            raise ValueError(f"refused: {fname} {verb} {size / MiB:,.1f} MiB; a run's {fname} is at most "
                             f"{cap / MiB:,.0f} MiB")
        total += size
    if total > MAX_IMPORT_BYTES:
        raise ValueError(f"refused: {whole} {total / MiB:,.0f} MiB; a run folder is at most "
                         f"{MAX_IMPORT_BYTES / MiB:,.0f} MiB")


def admit_staged(staging: str | os.PathLike, root: str | os.PathLike | None, base: str, suffix: str,
                 origin: dict[str, Any] | None = None) -> Run:
    """Admit a folder of run files from elsewhere (staged in the runs root, e.g. by `runs pull`) through the
    checks of an import; `origin` is recorded in its config.json. The staged folder is moved or removed."""
    root_p = existing_runs_root(root)
    staging_p = Path(staging)
    if root_p.resolve() not in staging_p.resolve().parents:  # the final rename stays on one filesystem
        raise ValueError(f"staged run folder {staging_p} must lie in the runs root {root_p}")
    try:
        with disk_full_guard(staging_p, "; nothing was pulled"):
            return Run(_admit_staged(staging_p, root_p, base, suffix, origin))
    finally:
        shutil.rmtree(staging_p, ignore_errors=True)


def _admit_staged(staging: Path, root_p: Path, base: str, suffix: str, origin: dict[str, Any] | None = None) -> Path:
    """The one check of a run from elsewhere (import, pull) before it lands: only run files, within their caps,
    each parsing as what its name says (nothing unpickled), a valid config and design, short plain display
    strings; then the data root becomes the local one and the folder is placed under a free run id."""
    if safe_name(base) != base or base.startswith("."):
        raise ValueError(f"refused: run id {base!r} is not safe")
    entries = [(f.name, f.is_dir() and not f.is_symlink(), 0) for f in staging.iterdir()]
    if any(f.is_symlink() or not (f.is_file() or f.is_dir()) for f in staging.iterdir()):
        raise ValueError("refused: the run folder holds a link or a special file")
    if any(is_dir or name not in RUN_FILES for name, is_dir, _ in entries):
        bad = sorted(n for n, d, _ in entries if d or n not in RUN_FILES)
        raise ValueError(f"refused: {bad[0]!r} is not a run file ({', '.join(sorted(RUN_FILES))})")
    _check_declared([(f.name, f.stat().st_size) for f in staging.iterdir()])
    if not (staging / CONFIG).is_file():
        raise ValueError("refused: the run has no config.json")
    for f in sorted(staging.iterdir()):
        _verify_file(f)
    cfg = _imported_config(staging)
    if (staging / DESIGN).is_file():
        from explorer.design import DesignError, read_design_file

        try:
            read_design_file(staging / DESIGN)
        except DesignError as exc:
            raise ValueError(f"refused: design.json is not a valid design ({exc})") from None
    st = staging / STATUS
    status = json.loads(st.read_text("utf-8")) if st.is_file() else {"status": "interrupted"}
    if not isinstance(status, dict):
        raise ValueError("refused: status.json is not a JSON object")
    problems = run_strings_problems(cfg, status)
    if problems:
        raise ValueError("refused: names, class names, tags and messages must be short plain text: "
                         + "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else ""))
    if cfg.get("created"):
        cfg["created"] = min(str(cfg["created"]), time.strftime(CREATED_FORMAT))  # not in the future
    if isinstance(cfg["train"].get("data"), dict):
        cfg["train"]["data"]["root"] = None  # the local data root, never a path from elsewhere
    if origin is not None:
        cfg["origin"] = origin
    status.pop("pid", None)  # a pid from another machine means nothing here
    atomic_write_json(st, status)
    return place_run(staging, root_p, base, cfg, suffix=suffix)


def _check_sizes(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip from its declared sizes: per-file caps, the folder cap and the compression ratio."""
    _check_declared([(info.filename.split("/")[-1], info.file_size) for info in infos], "would unpack to",
                    "the zip unpacks to")
    for info in infos:
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise ValueError(f"refused: {info.filename.split('/')[-1]} is compressed "
                             f"{info.file_size / max(1, info.compress_size):,.0f}x "
                             f"(at most {MAX_RATIO:g}x for a run file): a zip bomb")


def _unpack_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> None:
    """Copy one member, counting the bytes streamed: more than its declared size or its cap is refused."""
    fname = dest.name
    limit = min(info.file_size, IMPORT_CAPS.get(fname, 1 * MiB))
    done = 0
    try:
        with zf.open(info) as src, open(dest, "wb") as dst:
            while chunk := src.read(1 << 20):
                done += len(chunk)
                if done > limit:
                    raise ValueError(f"refused: {fname} unpacks to more than its declared {info.file_size:,} "
                                     f"bytes (cap {IMPORT_CAPS.get(fname, 1 * MiB) / MiB:,.0f} MiB): a zip bomb")
                dst.write(chunk)
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as exc:  # a size or CRC that lies: the stream disagrees
        raise ValueError(f"refused: {fname} in the zip is damaged or lies about its size ({exc})") from exc


def _imported_config(staging: Path) -> dict[str, Any]:
    """The imported config.json, its training config checked against every bound (ValueError when refused)."""
    from explorer.config import TrainConfig

    cfg = json.loads((staging / CONFIG).read_text("utf-8"))
    if not isinstance(cfg, dict) or not isinstance(cfg.get("train"), dict):
        raise ValueError("refused: config.json has no 'train' section")
    try:
        TrainConfig.from_dict(cfg["train"]).validate()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"refused: config.json has an invalid training config: {exc}") from exc
    return cfg


