"""The GPU check script's dry run on this CPU machine: every step runs (the wheels are really installed into
a temporary folder, the doctor and the end-to-end commands really run, the GPU tests and the GPU benchmark
skip saying why), so the script is known to work before a lent GPU's minutes are spent on it."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu_check.py"


def _wheel(folder: Path, name: str = "gpucheckprobe", version: str = "1.0") -> Path:
    """A real (tiny, pure-Python) wheel, built here with no network, for the install step to install."""
    path = folder / f"{name}-{version}-py3-none-any.whl"
    info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"__version__ = '{version}'\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{f},,\n" for f in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for f, text in files.items():
            zf.writestr(f, text)
        zf.writestr(f"{info}/RECORD", record)
    return path


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_dry_run_goes_through_every_step(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels)
    site, out = tmp_path / "site", tmp_path / "out"
    proc = _run("--dry-run", "--wheels", str(wheels), "--site", str(site), "--out", str(out), timeout=2300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    steps = {s["name"]: s for s in summary["steps"]}
    assert list(steps) == ["install", "doctor", "e2e", "tests", "bench"]
    assert summary["dry_run"] is True and summary["total_s"] <= summary["budget_s"]

    # install: the wheel really landed in the target folder, for the device's Python (3.12)
    assert steps["install"]["status"] == "pass"
    assert (site / "gpucheckprobe" / "__init__.py").is_file()
    assert "gpucheckprobe" in steps["install"]["figures"]["installed"]
    assert "Python 3.12" in steps["install"]["reason"]
    modules = steps["install"]["figures"]["modules"]
    assert not [m for m, v in modules.items() if str(v).startswith("MISSING")], modules

    # doctor: a real report on the CPU, no failed row
    assert steps["doctor"]["status"] == "pass"
    report = json.loads((out / "doctor.json").read_text())
    assert report["checks"] and not [c for c in report["checks"] if c["status"] == "fail"]

    # e2e: both models trained through the CLI, then evaluated (recomputed), explained and predicted
    e2e = steps["e2e"]
    assert e2e["status"] == "pass", e2e["reason"]
    for name in ("quick", "resnet18"):
        fig = e2e["figures"][name]
        assert 0.0 <= fig["test_acc"] <= 1.0 and fig["epochs"] >= 1 and fig["s_per_epoch"] > 0
        assert fig["recomputed_acc"] == pytest.approx(fig["test_acc"], abs=1e-4)
        assert len(fig["predicted"]) == 3 and fig["predict_device"].startswith("cpu")
    assert "train --recipe quick" in (out / "e2e.log").read_text()

    # the gpu tests skip, each with the reason there is no GPU; the GPU benchmark's code runs on the CPU, tiny
    assert steps["tests"]["status"] == "skip" and "GPU" in steps["tests"]["reason"], steps["tests"]
    assert "7 skipped" in (out / "gpu_tests.log").read_text()
    assert steps["bench"]["status"] == "pass" and "not a measurement" in steps["bench"]["reason"], steps["bench"]
    bench = json.loads((out / "bench_gpu.json").read_text())["gpu"]
    assert bench["dry_run"] and bench["resnet18_compile_off"]["s_per_epoch"] > 0 and bench["ratio_vs_plain"] > 0
    assert [s["name"] for s in bench["xception_two_stage"]["stages"]] == ["frozen base", "fine-tune last 20"]

    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["summary.md", "summary.json", "steps.log", "doctor.json", "gpu_tests.log",
                            "bench_gpu.json", "e2e.log"])  # at most 8 files come back from the device
    table = (out / "summary.md").read_text()
    assert "| install | pass |" in table and "| tests | skip |" in table


def test_only_and_a_missing_module_fail_clearly(tmp_path):
    bad = _run("--dry-run", "--only", "install,warp", "--out", str(tmp_path / "o"), timeout=60)
    assert bad.returncode == 2 and "unknown step(s) warp" in bad.stderr
    broken = tmp_path / "wheels"
    broken.mkdir()
    (broken / "broken-1.0-py3-none-any.whl").write_bytes(b"not a zip")
    proc = _run("--dry-run", "--only", "install", "--wheels", str(broken), "--out", str(tmp_path / "o2"), timeout=120)
    assert proc.returncode == 1
    [step] = json.loads((tmp_path / "o2" / "summary.json").read_text())["steps"]
    assert step["status"] == "fail" and "pip could not install the wheels" in step["reason"]


def test_tiny_datasets_split_without_stratification():
    """4 images per class with 10% validation: 11 validation images for 26 classes cannot be stratified; the
    split is a seeded random one (it was sklearn's "test_size = 11 should be greater or equal ..." error)."""
    from explorer.data import DataSpec, make_splits

    splits = make_splits(DataSpec(size=4, val_fraction=0.1))
    assert len(splits.val) == 11 and len(splits.train) == 93
    assert "stratify=None" in splits.record["val_method"]
    assert "stratify=labels" in make_splits(DataSpec(size=20, val_fraction=0.1)).record["val_method"]
