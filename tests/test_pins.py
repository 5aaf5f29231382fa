"""torch and torchvision are pinned to the builds on local disk, the same in requirements.txt, pyproject.toml
and the hashed requirements.lock that `make app` / `make test` install from."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PINS = {"torch": "2.14.1", "torchvision": "0.29.1"}


def _pins(lines: list[str]) -> dict[str, str]:
    found = (re.match(r"^(torch|torchvision)==([\w.]+)", line.strip()) for line in lines)
    return {m.group(1): m.group(2) for m in found if m}


def test_torch_pins_agree_everywhere():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert _pins(deps) == PINS
    assert _pins((ROOT / "requirements.txt").read_text().splitlines()) == PINS
    assert _pins((ROOT / "requirements.lock").read_text().splitlines()) == PINS
