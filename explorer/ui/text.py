"""Run strings (names, class names, notes, errors, dates) are text: escape them before they go
into markdown, captions, alerts or widget labels, so that no HTML, link or remote image renders."""

from __future__ import annotations

import re
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:&^=\"'%@/;?])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def md_escape(value: Any) -> str:
    """Any value -> markdown that renders as exactly its text (every ASCII punctuation backslash-escaped,
    line breaks and control characters as one space)."""
    text = _CONTROL.sub(" ", "" if value is None else str(value))
    return _MD_SPECIAL.sub(r"\\\1", text)


def md_code(value: Any) -> str:
    """Any value -> an inline code span that shows it as text (backticks and line breaks removed)."""
    text = _CONTROL.sub(" ", "" if value is None else str(value)).replace("`", "'")
    return f"`{text}`" if text.strip() else "` `"
