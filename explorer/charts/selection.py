"""What the user clicked in a chart: the first point of a named altair selection in st.altair_chart's event."""

from __future__ import annotations

from typing import Any

__all__ = ["first_point"]


def first_point(event: Any, name: str) -> dict[str, Any] | None:
    """The first point of selection `name` in st.altair_chart's event (a dict or an object with .selection);
    None when nothing is selected or the event has no such selection."""
    try:
        selection = event["selection"] if isinstance(event, dict) else event.selection
        points = selection[name]
    except (AttributeError, KeyError, TypeError):
        return None
    if not points:
        return None
    return points[0]
