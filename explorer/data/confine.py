"""Paths typed into the app are confined to the data root: no `~`, no way out through `..` or a
symbolic link, and one message for every path that is not usable, so the box cannot probe the server."""

from __future__ import annotations

import os
from pathlib import Path


class OutsideDataRootError(ValueError):
    """A typed path that is not a usable file or folder under the data root."""


def not_here_message(root: str | os.PathLike) -> str:
    """The one message for a path that cannot be used (it says nothing about what exists where)."""
    return (f"Not a valid EMNIST file here. Put gzip.zip (or its .gz or idx files) in the data folder "
            f"{Path(root).resolve()} or a folder under it, and give that path relative to the data folder.")


def path_under_root(text: str, root: str | os.PathLike) -> Path:
    """The path `text` names inside `root` (relative to it, or absolute within it), resolved; raises
    OutsideDataRootError with not_here_message for anything else (`~`, outside, missing)."""
    base = Path(root).resolve()
    text = (text or "").strip()
    if not text or text.startswith("~") or "\x00" in text:
        raise OutsideDataRootError(not_here_message(root))
    candidate = Path(text)
    full = (candidate if candidate.is_absolute() else base / candidate).resolve()
    if full != base and base not in full.parents:
        raise OutsideDataRootError(not_here_message(root))
    if not full.exists():
        raise OutsideDataRootError(not_here_message(root))
    return full
