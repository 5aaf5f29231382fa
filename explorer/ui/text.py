"""Run strings (names, class names, notes, errors, dates) are text: escape them before they go
into markdown, captions, alerts or widget labels, so that no HTML, link or remote image renders.
The functions live in explorer.untrusted (no streamlit) so exports can use them too."""

from __future__ import annotations

from explorer.untrusted import md_code, md_escape

__all__ = ["md_code", "md_escape"]
