"""Small file helpers shared by every package: atomic writes and safe names."""

from __future__ import annotations

import itertools
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success fsync and rename it over `path`.

    On any error the temporary file is removed and `path` keeps its previous content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically (write a temporary file, then rename)."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write `obj` as pretty JSON to `path` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n")


def append_jsonl(path: str | os.PathLike, record: dict) -> None:
    """Append one JSON line to `path` atomically: the file is rewritten whole, so a crash
    never leaves a half-written line."""
    path = Path(path)
    old = path.read_bytes() if path.exists() else b""
    if old and not old.endswith(b"\n"):
        old = old[: old.rfind(b"\n") + 1]  # drop a torn last line from an older writer
    line = json.dumps(record, default=_json_default) + "\n"
    atomic_write_bytes(path, old + line.encode("utf-8"))


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a JSONL file, skipping a torn (unparsable) last line."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


_RESERVED = set('/\\:*?"<>|')  # path separators and the characters Windows refuses in file names
MAX_NAME_BYTES = 200  # file systems allow 255 bytes per name; leave room for suffixes


def _unsafe(ch: str) -> bool:
    """True for a character a file name must not hold: separators, control/format characters, whitespace."""
    return ch in _RESERVED or unicodedata.category(ch)[0] in "CZ"


def safe_name(name: str, default: str = "run", max_len: int = 80) -> str:
    """Turn a user-given name into a safe file name: letters and digits of any script are kept (NFC);
    path separators, control characters and whitespace become "-"; no `..`, no leading or trailing dot."""
    text = unicodedata.normalize("NFC", str(name)).strip()
    cleaned = "".join("-" if bad else "".join(g) for bad, g in itertools.groupby(text, key=_unsafe)).strip("-.")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)[:max_len]
    while len(cleaned.encode("utf-8")) > MAX_NAME_BYTES:
        cleaned = cleaned[:-1]
    return cleaned.strip("-.") or default


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
