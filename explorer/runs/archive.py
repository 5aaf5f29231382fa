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
from explorer.runs.layout import CONFIG, DESIGN, RUN_FILES, STATUS
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
        raise ValueError(f"refused: {name} is not a valid {path.suffix} file ({type(exc).__name__}: {exc})") from exc


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
                    _verify_file(staging / fname)
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
                status.pop("pid", None)  # a pid from another machine means nothing here
                atomic_write_json(st, status)
                path = place_run(staging, root_p, folder, cfg, suffix="-imported-")
        except DiskFullError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise DiskFullError(root_p / exc.path.name, "; nothing was imported") from exc
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Run(path)


def _check_sizes(infos: list[zipfile.ZipInfo]) -> None:
    """Refuse a zip from its declared sizes: per-file caps, the folder cap and the compression ratio."""
    total = 0
    for info in infos:
        fname = info.filename.split("/")[-1]
        cap = IMPORT_CAPS.get(fname, 1 * MiB)
        if info.file_size > cap:
            raise ValueError(f"refused: {fname} would unpack to {info.file_size / MiB:,.1f} MiB; a run's "
                             f"{fname} is at most {cap / MiB:,.0f} MiB")
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise ValueError(f"refused: {fname} is compressed {info.file_size / max(1, info.compress_size):,.0f}x "
                             f"(at most {MAX_RATIO:g}x for a run file): a zip bomb")
        total += info.file_size
    if total > MAX_IMPORT_BYTES:
        raise ValueError(f"refused: the zip unpacks to {total / MiB:,.0f} MiB; a run folder is at most "
                         f"{MAX_IMPORT_BYTES / MiB:,.0f} MiB")


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


