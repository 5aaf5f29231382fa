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


def test_cli_flags_are_the_config_field_names_and_share_its_rules():
    import argparse
    from dataclasses import fields

    from explorer.train.cli import _add_train_options, cli_fields, config_from_args

    parser = argparse.ArgumentParser()
    _add_train_options(parser)
    for extra in ("--name", "--runs", "--tag"):
        parser.add_argument(extra)
    flags = {opt for a in parser._actions for opt in a.option_strings}
    for f in cli_fields():
        assert f"--{f.name.replace('_', '-')}" in flags, f.name
    assert {f.name for f in fields(TrainConfig)} - {f.name for f in cli_fields()} == {
        "data", "name", "stages", "head_hidden", "augment"}
    args = parser.parse_args(["--warmup-epochs", "1.5", "--early-stopping-patience", "2", "--unfreeze-last-n", "3",
                              "--transfer", "last_n", "--epochs", "4", "--size", "7", "--augment", "--step-size", "2"])
    cfg = config_from_args(args).validate()
    assert (cfg.warmup_epochs, cfg.early_stopping_patience, cfg.unfreeze_last_n, cfg.step_size) == (1.5, 2, 3, 2)
    assert cfg.data.size == 7 and cfg.augment is not None and cfg.augment.rotation_deg == 10.0
    old = parser.parse_args(["--warmup", "1", "--patience", "5", "--unfreeze-last", "2"])  # former spellings
    assert (old.warmup_epochs, old.early_stopping_patience, old.unfreeze_last_n) == (1.0, 5, 2)
    with pytest.raises(ValueError, match="batch_size must be a whole number <= 65536"):
        config_from_args(parser.parse_args(["--batch-size", "100000000"])).validate()
    with pytest.raises(ValueError, match=r"size must be a whole number of images per class in \[1, 10,000\]"):
        config_from_args(parser.parse_args(["--size", "100000000"]))


def test_data_and_augment_are_typed_and_dict_configs_still_load():
    from explorer.data import Augment, DataSpec

    old = TrainConfig().to_dict() | {"data": {"name": "digits", "val_fraction": 0.2},
                                      "augment": {"rotation_deg": 5.0, "zoom": 0.1, "shift": 0.1}}
    cfg = TrainConfig.from_dict(old)
    assert cfg.data == DataSpec("digits", val_fraction=0.2)
    assert cfg.augment == Augment(rotation_deg=5.0, zoom=0.1, shift=0.1)
    again = cfg.to_dict()
    assert again["data"] == {"name": "digits", "root": None, "size": None, "seed": 0, "val_fraction": 0.2,
                             "gen_seed": 0}
    assert again["augment"]["rotation_deg"] == 5.0 and TrainConfig.from_dict(again) == cfg
    with pytest.raises(ValueError, match="unknown DataSpec keys"):
        TrainConfig.from_dict({"data": {"name": "digits", "colour": 1}})
    for bad, message in (({"seed": 2**40}, "seed must be a whole number <= 2147483647"),
                         ({"nesterov": "yes"}, "nesterov must be true or false"),
                         ({"weight_decay": float("nan")}, "weight_decay must be in"),
                         ({"head_hidden": (0,)}, "head_hidden must be a whole number >= 1")):
        with pytest.raises(ValueError, match=message):
            TrainConfig.from_dict(TrainConfig().to_dict() | bad).validate()
