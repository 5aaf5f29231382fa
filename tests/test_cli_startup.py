"""A CLI that starts at once (issue 27): the quick commands import no torch (nor numpy/pandas where they need
none) and stay small. Times are load-dependent and measured by bench/bench_cli.py; here the modules and memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mixed_runs import make_mixed_runs

ROOT = Path(__file__).resolve().parents[1]

# Runs explorer.cli.main(argv) in this fresh interpreter, then prints what it imported and its peak RSS.
PROBE = """
import json, sys
from explorer.cli import main
argv = json.loads(sys.argv[1])
try:
    rc = main(argv)
except SystemExit as exc:  # --help exits through argparse
    rc = exc.code
heavy = sorted(m for m in ("torch", "torchvision", "timm", "numpy", "pandas", "sklearn", "PIL", "altair",
                           "optuna", "streamlit") if m in sys.modules)
# VmHWM: this process image's peak RSS (ru_maxrss would carry the forking parent's over exec)
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print("\\n@@" + json.dumps({"rc": rc, "heavy": heavy, "mb": int(hwm.split()[1]) / 1024}))
"""

# command -> heavy modules it may import (runs list reads the store, whose module uses numpy for predictions)
COMMANDS = {
    "--help": set(),
    "models": set(),
    "sweep list": set(),
    "data list": set(),
    "runs list": {"numpy"},
}


def _probe(argv: list[str], runs: Path) -> tuple[dict, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "EXPLORER_RUNS": str(runs)}
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=120)
    text, _, tail = out.stdout.rpartition("\n@@")
    assert tail, f"no probe output; stderr: {out.stderr[-2000:]}"
    return json.loads(tail), text


@pytest.fixture(scope="module")
def runs_folder(tmp_path_factory) -> Path:
    """A runs folder as a user's looks (completed, stopped, failed, imported and sweep runs, a sweep queue)."""
    root = tmp_path_factory.mktemp("startup") / "runs"
    make_mixed_runs(root)
    return root


@pytest.mark.parametrize("command", list(COMMANDS))
def test_quick_commands_import_no_torch(command, runs_folder):
    result, text = _probe(command.split(), runs_folder)
    assert result["rc"] == 0, text
    assert "torch" not in result["heavy"]
    assert set(result["heavy"]) <= COMMANDS[command], f"{command} imported {result['heavy']}"
    assert result["mb"] < 150, f"{command}: peak RSS {result['mb']:.0f} MB"
    if command == "runs list":
        assert "lenet5" in text and "stopped" in text  # it really listed the runs
    if command == "models":
        assert "resnet18" in text and "efficientnet_b7" in text
    if command == "--help":
        assert "train" in text and "learn" in text


def test_every_subcommand_help_is_light(runs_folder):
    """Registering every sub-command (what --help does) imports no torch, and `train --help` lists its options."""
    result, text = _probe(["train", "--help"], runs_folder)
    assert result["rc"] == 0 and "torch" not in result["heavy"]
    assert "--warmup-epochs" in text


def test_light_tables_match_the_libraries():
    """The figures the registry keeps as data (so listing imports no torchvision) are torchvision's own."""
    import torchvision

    from explorer.data.torchvision_sets import RAW_FILES, TORCHVISION_SETS
    from explorer.models import list_cards

    for c in list_cards():
        if c.source == "torchvision":
            meta = torchvision.models.get_weight(c.weights).meta
            acc = meta["_metrics"]["ImageNet-1K"]
            assert (c.top1, c.top5, c.ref_params, c.ref_gmacs, c.min_size) == (
                acc["acc@1"], acc["acc@5"], meta["num_params"], meta["_ops"], meta["min_size"][0]), c.name
    for cls_name in TORCHVISION_SETS.values():
        cls = getattr(torchvision.datasets, cls_name)
        assert RAW_FILES == tuple(os.path.splitext(f)[0] for f, _ in cls.resources)
