"""Package faces that load their names on first use (PEP 562), so importing a light part of a package
(its `cli` module, a table of cards) never imports torch through the package's `__init__`.

    __getattr__, __dir__ = lazy_names(__name__, {"summarize": "summary", "Summary": "summary"})

A face keeps its public names in one table (name -> the sub-module that owns it: "summary", or a full
"explorer.x.y", with ":attr" where the face's name is another name there); `from pkg import name` and
`pkg.name` work as with eager imports, and an unknown name is the usual AttributeError.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_names(package: str, where: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the `__getattr__` and `__dir__` of a package face whose names live in `where`'s sub-modules."""

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        owner, _, attr = where[name].partition(":")
        module = importlib.import_module(owner if owner.startswith("explorer.") else f"{package}.{owner}")
        value = getattr(module, attr or name)
        setattr(sys.modules[package], name, value)  # the next access is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(where) | set(vars(sys.modules[package])))

    return __getattr__, __dir__
