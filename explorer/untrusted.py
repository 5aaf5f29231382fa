"""Strings and dates read from a run folder are untrusted: one place that says what counts as short
plain text, checks the display strings of an imported run, cleans dates and neutralises CSV cells."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

CREATED_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_LABEL = 80  # run names, model and dataset names
MAX_CLASS = 32  # one class name
MAX_TAG = 40
MAX_CLASSES = 1000
MAX_MESSAGE = 2000  # an error text or one note
# Letters and digits of any script, space and a little punctuation: no HTML, markdown, links or formulas.
_PLAIN = re.compile(r"[\w .,:;'()/+-]*")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MD_ALWAYS = re.compile(r"([\\`*{}\[\]<#|~$!&])")  # HTML (a tag needs <), links, images, code, emphasis, tables, math
_MD_COLON = re.compile(r":(?=[A-Za-z/])")  # autolinks (http://) and directives (:red[...], :material/x:)
_MD_UNDERSCORE = re.compile(r"(?<!\w)_|_(?!\w)")  # emphasis; intraword underscores (small_cnn) stay
_MD_LEADING = re.compile(r"^(\s*)(\d*)([-+=>.)])")  # list, quote or heading markers at the start
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
# GFM links bare URLs and e-mail addresses after the markdown is parsed (escapes are gone by then), so a word
# joiner (U+2060, invisible, no line break) goes inside every "://", "www." and "@": the text reads the same
# and no renderer makes a link of it
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(:)(?=\\?/\\?/)|(?i:(www))(?=\\?\.)|(@)")


def md_escape(value: Any) -> str:
    """Any value -> markdown that renders as exactly its text: no HTML, link, image, code, emphasis,
    directive or block marker (line breaks and control characters become one space)."""
    text = _LINE_BREAKS.sub(" ", "" if value is None else str(value))
    text = _MD_ALWAYS.sub(r"\\\1", text)
    text = _MD_UNDERSCORE.sub(r"\\_", text)
    text = _MD_COLON.sub(r"\\:", text)
    text = re.sub(r"(?i)(www)\.", r"\1\\.", text)
    text = _MD_LEADING.sub(lambda m: f"{m.group(1)}{m.group(2)}\\{m.group(3)}", text, count=1)
    return _AUTOLINK.sub(lambda m: m.group(0) + WORD_JOINER, text)


_MD_TEXT_SPECIAL = re.compile(r"([\\`*\[\]<>|!~$&:])")


def md_text(value: Any) -> str:
    """Lighter escaping for Markdown files people read raw: no HTML, links, images, code or tables
    (backslash-escapes \\ ` * [ ] < > | ! ~ $ & : and the dot of www.), other punctuation kept."""
    text = _LINE_BREAKS.sub(" ", "" if value is None else str(value))
    return re.sub(r"(?i)(www)\.", r"\1\\.", _MD_TEXT_SPECIAL.sub(r"\\\1", text))


def md_code(value: Any) -> str:
    """Any value -> an inline code span that shows it as text (backticks and line breaks removed)."""
    text = _LINE_BREAKS.sub(" ", "" if value is None else str(value)).replace("`", "'")
    return f"`{text}`" if text.strip() else "` `"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def plain_text_problem(value: Any, max_len: int) -> str | None:
    """Why `value` is not short plain text (letters, digits, space, `.,:;'()/+-`), or None when it is."""
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not text"
    if len(value) > max_len:
        return f"is {len(value)} characters long (at most {max_len})"
    if not _PLAIN.fullmatch(value):
        bad = sorted({c for c in value if not _PLAIN.fullmatch(c)})
        return f"holds characters other than letters, digits, space and .,:;'()/+- ({''.join(bad)[:20]!r})"
    if value.startswith(_FORMULA_START):
        return "starts with = + - or @ (a spreadsheet formula)"
    return None


def message_problem(value: Any, max_len: int = MAX_MESSAGE) -> str | None:
    """Why an error text or note is unacceptable (not text, too long, control characters), or None."""
    if value is None:
        return None
    if not isinstance(value, str):
        return f"is a {type(value).__name__}, not text"
    if len(value) > max_len:
        return f"is {len(value)} characters long (at most {max_len})"
    if _CONTROL.search(value):
        return "holds control characters"
    return None


def parse_created(value: Any, now: float | None = None) -> str:
    """A run's `created` as written by create_run, or "" when it is not such a date or lies in the future."""
    if not isinstance(value, str):
        return ""
    try:
        when = datetime.strptime(value, CREATED_FORMAT)
    except ValueError:
        return ""
    limit = datetime.fromtimestamp((time.time() if now is None else now) + 60)
    return value if when <= limit else ""


def run_strings_problems(cfg: dict[str, Any], status: dict[str, Any]) -> list[str]:
    """Every display string of a run's config.json and status.json that is not acceptable, as messages."""
    problems: list[str] = []

    def check(where: str, value: Any, max_len: int, optional: bool = True) -> None:
        if value is None and optional:
            return
        why = plain_text_problem(value, max_len)
        if why:
            problems.append(f"{where} {why}")

    check("config.json name", cfg.get("name"), MAX_LABEL)
    train = cfg.get("train") if isinstance(cfg.get("train"), dict) else {}
    check("config.json train.name", train.get("name") or None, MAX_LABEL)
    check("config.json train.model", train.get("model"), MAX_LABEL)
    data = train.get("data") if isinstance(train.get("data"), dict) else {}
    check("config.json train.data.name", data.get("name"), MAX_LABEL)
    tags = cfg.get("tags") or []
    if not isinstance(tags, list) or len(tags) > 100:
        problems.append("config.json tags is not a list of at most 100 tags")
    else:
        for i, t in enumerate(tags):
            check(f"config.json tag {i + 1}", t, MAX_TAG, optional=False)
    classes = cfg.get("classes") or []
    if not isinstance(classes, list) or len(classes) > MAX_CLASSES:
        problems.append(f"config.json classes is not a list of at most {MAX_CLASSES} names")
    else:
        for i, c in enumerate(classes):
            if c == "":
                problems.append(f"config.json class {i} is empty")
            check(f"config.json class {i}", c, MAX_CLASS, optional=False)
    created = cfg.get("created")
    if created not in (None, "") and not (isinstance(created, str) and _is_date(created)):
        problems.append(f"config.json created is not a date like 2025-01-31 12:00:00 ({str(created)[:40]!r})")
    for key in ("error", "phase", "stage_name", "device", "device_label"):
        why = message_problem(status.get(key), MAX_MESSAGE if key == "error" else MAX_LABEL)
        if why:
            problems.append(f"status.json {key} {why}")
    notes = status.get("notes") or []
    if not isinstance(notes, list) or len(notes) > 100:
        problems.append("status.json notes is not a list of at most 100 notes")
    else:
        for i, n in enumerate(notes):
            why = message_problem(n, MAX_MESSAGE) if n is not None else "is empty"
            if why:
                problems.append(f"status.json note {i + 1} {why}")
    return problems


def _is_date(value: str) -> bool:
    """True when `value` is a date in CREATED_FORMAT."""
    try:
        datetime.strptime(value, CREATED_FORMAT)
    except ValueError:
        return False
    return True


def csv_cell(value: Any) -> Any:
    """A spreadsheet-inert cell: text starting with = + - @, tab or CR gets a leading quote; others unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_safe_frame(df: Any) -> Any:
    """A copy of a DataFrame whose text cells, column names and index labels are spreadsheet-inert."""
    import pandas as pd

    out = df.copy()
    out.columns = [csv_cell(c) for c in out.columns]
    out.index = [csv_cell(i) for i in out.index]
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = out[col].map(csv_cell)  # object and str columns (pandas 3 infers str)
    return out
