"""The seconds-per-epoch estimate: real timed steps, scaled by the batch count; printed by `train`."""

from __future__ import annotations

import math

import pytest

from explorer.cli import main
from explorer.config import TrainConfig
from explorer.train.estimate import estimate_epoch_seconds


def tiny(size: int, **kw) -> TrainConfig:
    """Quick CNN on `size` built-in letters per class, batch 64, CPU."""
    data = {"name": "letters-builtin", "size": size, "val_fraction": 0.1}
    return TrainConfig.from_dict({"model": "small_cnn", "data": data, "epochs": 2, "batch_size": 64, "device": "cpu", **kw})


def test_estimate_is_positive_and_scales_with_batches():
    small, big = estimate_epoch_seconds(tiny(20)), estimate_epoch_seconds(tiny(80))
    assert small.steps_per_epoch == math.ceil(468 / 64) == 8
    assert big.steps_per_epoch == math.ceil(1872 / 64) == 30
    for e in (small, big):
        assert e.seconds_per_step > 0 and e.val_seconds > 0 and e.images_per_s > 0
        assert e.seconds_per_epoch == pytest.approx(e.seconds_per_step * e.steps_per_epoch)
        assert e.total_seconds == pytest.approx(2 * (e.seconds_per_epoch + e.val_seconds))
        assert e.device.startswith("cpu") and "per epoch on cpu" in e.text()
    # four times the batches: the per-epoch figure scales with them (per-step time is measured, so noisy)
    assert big.seconds_per_epoch / big.seconds_per_step == pytest.approx(30 * small.seconds_per_epoch / small.seconds_per_step / 8)


def test_stages_amp_and_compile_notes():
    cfg = tiny(20, amp="bf16", compile=True,
               stages=[{"name": "frozen", "epochs": 1, "lr": 0.01, "transfer": "frozen"},
                       {"name": "all", "epochs": 1, "lr": 0.001, "transfer": "scratch"}])
    e = estimate_epoch_seconds(cfg, steps=1, warmup=0)
    assert [s["name"] for s in e.stages] == ["frozen", "all"]
    assert all(s["seconds_per_epoch"] > 0 for s in e.stages)
    assert any("float32" in n for n in e.notes) and any("compile" in n for n in e.notes)


def test_format_duration_is_the_one_duration_format():
    import explorer.train.estimate as estimate
    from explorer.names import format_duration

    assert not hasattr(estimate, "fmt_duration")  # no alias: one name everywhere
    assert format_duration(3.24) == "3s" and format_duration(42) == "42s"
    assert format_duration(250) == "4m 10s" and format_duration(3960) == "1h 06m"


def test_train_cli_prints_estimate_before_start(tmp_path, capsys):
    code = main(["train", "--epochs", "1", "--size", "20", "--runs", str(tmp_path), "--no-progress", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 0
    assert "estimated about " in err and " for small_cnn · 1x28x28 input · batch 128 · " in err
    assert " per epoch on cpu" in err and "measured: 5 timed training steps" in err
    assert main(["train", "--batch-size", "0", "--runs", str(tmp_path), "--no-progress"]) == 2
    assert "batch_size" in capsys.readouterr().err
