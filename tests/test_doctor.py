"""The doctor on this machine's CPU: JSON shape, exit status, the no-GPU sentence, the compile time bound."""

from __future__ import annotations

import json

import pytest
import torch

from explorer.cli import main
from explorer.doctor.core import Check, DoctorReport, compile_check, format_report, why_no_gpu

NAMES = ["train fp32", "train bf16", "train fp16 (GradScaler)", "train channels_last", "train torch.compile",
         "evaluate", "predict", "Grad-CAM"]


@pytest.fixture(scope="module")
def cpu_report() -> tuple[int, dict]:
    """One CPU-only doctor run through the CLI (compile skipped to keep it short), as (exit status, JSON)."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["doctor", "--device", "cpu", "--compile-timeout", "0", "--json"])
    return code, json.loads(out.getvalue())


def test_doctor_json_shape_and_exit_zero(cpu_report):
    code, data = cpu_report
    assert code == 0 and data["ok"] is True
    assert data["versions"]["torch"] == torch.__version__
    assert data["versions"]["cuda_build"] == torch.version.cuda
    assert data["devices"][0]["device"] == "cpu" and data["devices"][0]["threads"] >= 1
    checks = data["checks"]
    assert [c["name"] for c in checks] == NAMES
    by = {c["name"]: c for c in checks}
    for name in ("train fp32", "train channels_last", "evaluate", "predict", "Grad-CAM"):
        assert by[name]["status"] == "pass", by[name]
        assert by[name]["images_per_s"] > 0 and by[name]["seconds"] > 0
        assert by[name]["peak_mem_mb"] is None  # measured on GPUs only
    for amp in ("train bf16", "train fp16 (GradScaler)"):  # GPU modes: the CPU fallback ran, said plainly
        assert by[amp]["status"] == "unsupported" and "float32" in by[amp]["note"] and by[amp]["images_per_s"] > 0
    assert by["train torch.compile"]["status"] == "skipped"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: no 'no GPU' sentence to check")
def test_no_gpu_sentence_says_why(cpu_report):
    _, data = cpu_report
    note = why_no_gpu()
    assert data["gpu_note"] == note and note.startswith("No GPU: ")
    if torch.version.cuda is None:
        assert "CPU-only build" in note
    else:
        assert f"CUDA {torch.version.cuda}" in note
        assert "driver" in note or "no CUDA device" in note or "CUDA_VISIBLE_DEVICES" in note


def test_text_report_and_failed_verdict(cpu_report):
    _, data = cpu_report
    report = DoctorReport(data["versions"], data["devices"], data["gpu_note"], [Check(**c) for c in data["checks"]])
    text = format_report(report)
    assert "OK: every path" in text and "train channels_last" in text
    report.checks.append(Check("cpu", "evaluate", "fail", note="RuntimeError: boom"))
    assert not report.ok and "FAILED: cpu evaluate" in format_report(report)
    assert list(report.to_dataframe().columns)[:3] == ["device", "name", "status"]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the refusal of a GPU that is absent")
def test_absent_gpu_or_unknown_device_is_exit_2(capsys):
    assert main(["doctor", "--device", "cuda"]) == 2
    assert "No GPU" in capsys.readouterr().err
    assert main(["doctor", "--device", "tpu"]) == 2
    err = capsys.readouterr().err
    assert "unknown device 'tpu'" in err and "cpu, cuda or cuda:N" in err  # explorer.devices' one message


def test_compile_check_is_time_bounded():
    check = compile_check(torch.device("cpu"), timeout_s=1.0)
    if check.status == "unsupported":  # no C++ compiler on this machine: the reason is the sentence
        assert "compiler" in check.note
        return
    assert check.status == "skipped" and "did not finish within 1 s" in check.note
    assert 1.0 <= check.seconds < 30
