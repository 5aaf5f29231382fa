"""Saved designs: one JSON file per design in `<data root>/designs/` ($EXPLORER_DESIGNS overrides the folder),
written atomically, read back as untrusted input (explorer.design.spec.parse_design); export and import as a
file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from explorer.design.spec import MAX_FILE_BYTES, Design, DesignError, check_name, parse_design
from explorer.io import atomic_write_text, data_root

DESIGNS_ENV = "EXPLORER_DESIGNS"
_CACHE: dict[Path, tuple[tuple[int, int], Design | DesignError]] = {}


def designs_root(root: str | os.PathLike | None = None) -> Path:
    """The designs folder: `root`, else $EXPLORER_DESIGNS, else <data root>/designs."""
    return Path(root or os.environ.get(DESIGNS_ENV) or data_root() / "designs").expanduser()


def design_path(name: str, root: str | os.PathLike | None = None) -> Path:
    """Where design `name` is saved."""
    return designs_root(root) / f"{check_name(name)}.json"


def design_json(design: Design) -> str:
    """The file text of a design (what save and export write)."""
    return json.dumps(design.to_dict(), indent=1, ensure_ascii=False) + "\n"


def read_design_bytes(data: bytes, source: str) -> Design:
    """A design from a file's bytes: size-capped, UTF-8 JSON, then parse_design (DesignError with the reason)."""
    if len(data) > MAX_FILE_BYTES:
        raise DesignError(f"refused: {source} is {len(data):,} bytes; a design file is at most {MAX_FILE_BYTES:,}")
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DesignError(f"refused: {source} is not a JSON design file ({exc})") from None
    return parse_design(obj, source)


def read_design_file(path: str | os.PathLike) -> Design:
    """A design from a file (untrusted)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no design file at {p}")
    if p.stat().st_size > MAX_FILE_BYTES:
        raise DesignError(f"refused: {p} is {p.stat().st_size:,} bytes; a design file is at most {MAX_FILE_BYTES:,}")
    return read_design_bytes(p.read_bytes(), str(p))


def _cached(path: Path) -> Design | DesignError:
    st = path.stat()
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _CACHE.get(path)
    if hit and hit[0] == stamp:
        return hit[1]
    try:
        value: Design | DesignError = read_design_file(path)
        if value.name != path.stem:
            value = DesignError(f"{path} holds design {value.name!r}; its file name must be {value.name}.json")
    except (DesignError, OSError) as exc:
        value = exc if isinstance(exc, DesignError) else DesignError(f"{path}: {exc}")
    _CACHE[path] = (stamp, value)
    return value


def saved_designs(root: str | os.PathLike | None = None) -> list[Design | DesignError]:
    """Every saved design by name (a damaged file is a DesignError in its place, never hidden or raised)."""
    folder = designs_root(root)
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.glob("*.json")):
        if p.name.startswith("."):
            continue
        try:
            out.append(_cached(p))
        except OSError:
            continue
    return out


def list_designs(root: str | os.PathLike | None = None) -> list[Design]:
    """The saved designs that read back cleanly, by name."""
    return [d for d in saved_designs(root) if isinstance(d, Design)]


def load_design(name: str, root: str | os.PathLike | None = None) -> Design:
    """A saved design; FileNotFoundError naming the saved ones when there is none by that name."""
    path = design_path(name, root)
    if not path.is_file():
        names = [d.name for d in list_designs(root)]
        have = f"saved designs: {', '.join(names)}" if names else "no design is saved yet"
        raise FileNotFoundError(f"no saved design {name!r} in {designs_root(root)} ({have}); make one on the "
                                "Design page or with `explorer design new NAME`")
    value = _cached(path)
    if isinstance(value, DesignError):
        raise value
    return value


def save_design(design: Design, root: str | os.PathLike | None = None, overwrite: bool = True) -> Path:
    """Write a design (atomically) under its name; ValueError when it exists and overwrite is False."""
    path = design_path(design.name, root)
    if path.exists() and not overwrite:
        raise ValueError(f"a design named {design.name!r} exists; choose another name or replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, design_json(design))
    return path


def delete_design(name: str, root: str | os.PathLike | None = None) -> None:
    """Remove a saved design (runs trained on it keep their own copy)."""
    path = design_path(name, root)
    if not path.is_file():
        raise FileNotFoundError(f"no saved design {name!r} in {designs_root(root)}")
    path.unlink()
    _CACHE.pop(path, None)


def export_design(name: str, dest: str | os.PathLike | None = None, root: str | os.PathLike | None = None,
                  force: bool = False) -> Path:
    """Write a saved design to a file (`<name>.json` here by default); refuses to replace one without force."""
    design = load_design(name, root)
    p = Path(dest) if dest else Path(f"{design.name}.json")
    if p.is_dir():
        p = p / f"{design.name}.json"
    if p.exists() and not force:
        raise ValueError(f"refused: {p} already exists; choose another name or pass --force to replace it")
    atomic_write_text(p, design_json(design))
    return p


def import_design(source: str | os.PathLike | bytes, root: str | os.PathLike | None = None,
                  name: str | None = None, overwrite: bool = False) -> Design:
    """Read a design file (a path or its bytes), check it like any untrusted file, and save it (as `name`)."""
    design = read_design_bytes(source, "the upload") if isinstance(source, bytes) else read_design_file(source)
    if name:
        design = design.replace(name=name)
    save_design(design, root, overwrite=overwrite)
    return design
