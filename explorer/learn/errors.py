"""The one error type of Learn: a user's choice that cannot be followed (a unit outside the map, a layer
without channel maps, a run without weights, a typed matrix with text in it). A ValueError, so the CLI
prints it as one line with exit status 2 and the page shows it as a message."""

from __future__ import annotations


class LearnError(ValueError):
    """A choice Learn cannot follow; the message says what was wrong and what to do."""
