"""TrainConfig validation messages, round trip and recipes."""

from __future__ import annotations

import pytest

from explorer.config import Stage, TrainConfig
from explorer.train.loop import precheck
from explorer.train.recipes import RECIPES
from explorer.train.schedule import lr_factor


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lr": 0.0}, "lr must be a finite number > 0"),
        ({"lr": -1.0}, "lr must be a finite number > 0"),
        ({"epochs": 0}, "zero epochs"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of sgd, adam, adamw"),
        ({"schedule": "linear"}, "schedule must be one of"),
        ({"transfer": "last_n", "unfreeze_last_n": 0}, "unfreeze_last_n >= 1"),
        ({"label_smoothing": 1.5}, "label_smoothing must be in"),
        ({"batch_size": 0}, "batch_size must be a whole number >= 1"),
        ({"amp": "fp8"}, "amp must be one of"),
        ({"stages": (Stage("a", 0, 1e-3),)}, "zero epochs"),
    ],
)
def test_validate_refuses_with_reason(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig().replace(**changes).validate()


def test_precheck_batch_larger_than_data_and_impossible_transfer():
    small = {"name": "letters-builtin", "size": 2, "val_fraction": 0.1}
    with pytest.raises(ValueError, match="larger than the training data"):
        precheck(TrainConfig(data=small, batch_size=1000))
    with pytest.raises(ValueError, match="cannot unfreeze the last 500 layers"):
        precheck(TrainConfig(transfer="last_n", unfreeze_last_n=500))
    with pytest.raises(KeyError, match="unknown model"):
        precheck(TrainConfig(model="resnet9000"))


def test_round_trip_and_recipes():
    for name, cfg in RECIPES.items():
        assert TrainConfig.from_dict(cfg.to_dict()) == cfg, name
        precheck(cfg)
    assert RECIPES["xception_two_stage"].total_epochs == 10
    assert [s.transfer for s in RECIPES["xception_two_stage"].stage_list()] == ["frozen", "last_n"]
    with pytest.raises(ValueError, match="unknown TrainConfig keys"):
        TrainConfig.from_dict({"lrr": 1})


def test_schedules_warmup_and_shapes():
    cfg = TrainConfig(schedule="cosine", warmup_epochs=1, epochs=4)
    f = [lr_factor(cfg, s, 40, 10, 1.0) for s in range(40)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0) and f[-1] < 0.01
    one = [lr_factor(TrainConfig(schedule="onecycle"), s, 100, 10, 1.0) for s in range(100)]
    assert one[0] < 0.1 and max(one) == pytest.approx(1.0, abs=0.01) and one[-1] < 0.01
    step = [lr_factor(TrainConfig(schedule="step", step_size=1, gamma=0.1), s, 30, 10, 1.0) for s in (0, 15, 25)]
    assert step == pytest.approx([1.0, 0.1, 0.01])
