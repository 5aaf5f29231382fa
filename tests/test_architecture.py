"""The layers of docs/architecture.md are a contract: import-linter checks them on every test run."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert exe, "lint-imports (import-linter) is not installed: it is a dev dependency"
    proc = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return proc.stdout


def _layers() -> list[str]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / ".importlinter")
    return [line.strip() for line in cfg["importlinter:contract:layers"]["layers"].splitlines() if line.strip()]


def test_import_contracts_are_kept():
    out = _lint_imports()
    assert "3 kept, 0 broken" in out, out[-2000:]


def test_architecture_doc_states_the_layers_of_the_contract():
    doc = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    doc = doc[doc.index("## Layers"):]
    doc = doc[doc.index("```"):doc.index("```", doc.index("```") + 3)]  # the section's diagram
    positions = []
    for layer in _layers():
        assert f"\n{layer} " in doc, f"docs/architecture.md does not state the layer {layer!r} of .importlinter"
        positions.append(doc.index(f"\n{layer} "))
    assert positions == sorted(positions), "docs/architecture.md lists the layers in another order than .importlinter"


def test_every_explorer_subpackage_is_in_a_layer():
    layered = {m.strip() for layer in _layers() for m in layer.replace("|", ":").split(":")}
    subpackages = {f"explorer.{p.stem if p.is_file() else p.name}" for p in (ROOT / "explorer").iterdir()
                   if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.stem != "__init__")}
    assert subpackages - layered == set(), f"modules in no layer of .importlinter: {sorted(subpackages - layered)}"
