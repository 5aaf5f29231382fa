"""Train page: the Estimate button gives a one-line estimate; the GPU memory line from a run's status."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from explorer.ui.train_doctor import gpu_memory_text

PAGE = str(Path(__file__).resolve().parents[1] / "app_pages" / "train.py")


def test_estimate_button_shows_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_RUNS", str(tmp_path / "runs"))
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.number_input(key="quick:size").set_value(20)
    at.number_input(key="quick:epochs").set_value(1)
    at.button(key="quick:estimate").click()
    at.run()
    assert not at.exception, at.exception
    lines = [c.value for c in at.caption if " per epoch, for " in c.value]
    assert len(lines) == 1 and lines[0].startswith(":material/timer: the whole run about "), [c.value for c in at.caption]
    assert " for small_cnn · 1x28x28 input · batch 128 · 468 images x 1 epoch · cpu" in lines[0]  # what it was measured on
    assert "; measured: 5 timed training steps just now (" in lines[0]
    assert not any("started" in s.value for s in at.success)  # estimating does not start a run
    assert "Quick CNN" in at.selectbox(key="quick:model").options  # labels never change (the time is the line)
    assert any(e.label.startswith("System check") for e in at.expander)


def test_gpu_memory_text():
    assert gpu_memory_text({"device": "cpu"}) is None
    st = {"gpu_mem_mb": 1930.4, "gpu_mem_peak_mb": 1930.4, "gpu_mem_now_mb": 812.0, "gpu_mem_total_mb": 81559.0}
    assert gpu_memory_text(st) == "in use 812 MiB · peak 1,930 MiB of 81,559 MiB"
    assert gpu_memory_text({"gpu_mem_mb": 100.0}) == "peak 100 MiB"  # a status written before the in-use field
