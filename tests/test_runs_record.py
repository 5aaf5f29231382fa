"""The run's record (config.json read and checked once per change) and the one keyed store of derived results."""

from __future__ import annotations

import json

import numpy as np
import pytest

from explorer.runs import RunFileError, open_run
from tests.run_fixtures import make_run


def test_the_record_is_read_once_and_again_after_a_change(tmp_path):
    run = make_run(tmp_path, name="first", classes=list("ABC"))
    rec = run.record
    assert run.record is rec and open_run(run.path).record is rec  # no re-read, no re-validation
    assert (rec.name, rec.classes, rec.num_classes, rec.model_name) == ("first", ("A", "B", "C"), 3, "small_cnn")
    assert rec.train.model == "small_cnn" and rec.dataset == rec.train.data.name
    after = run.update_config(name="second", tags=["x"])
    assert after is run.record and (after.name, after.tags) == ("second", ("x",))
    cfg = run.config
    cfg["name"] = "changed in a copy"
    assert run.record.name == "second"  # Run.config hands out a copy


def test_a_damaged_config_is_a_run_file_error_naming_the_file(tmp_path):
    run = make_run(tmp_path)
    cfg = json.loads((run.path / "config.json").read_text())
    cfg["train"]["epochs"] = "many"
    (run.path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(RunFileError, match=r"config\.json.*training config"):
        run.train_config()  # the record, checked on read


def test_derived_results_are_keyed(tmp_path):
    run = make_run(tmp_path)
    key = {"version": 1, "stamp": run.weights_stamp()}
    assert run.derived.read("trust", key) is None and run.derived.read_arrays("robustness", key) is None
    run.derived.write("trust", key, {"v": [1, 2]})
    run.derived.write_arrays("robustness", key, {"accuracy": np.ones((2, 3))}, {"note": "n"})
    assert run.derived.read("trust", key) == {"v": [1, 2]}
    arrays, meta = run.derived.read_arrays("robustness", key)
    assert arrays["accuracy"].shape == (2, 3) and meta == {"note": "n"}
    other = {**key, "version": 2}
    assert run.derived.read("trust", other) is None and run.derived.read_arrays("robustness", other) is None
    (run.path / "inside" / "robustness.npz").write_bytes(b"not an npz")
    assert run.derived.read_arrays("robustness", key) is None  # damaged: a miss, recomputed by the caller
    with pytest.raises(ValueError, match="bad derived-result name"):
        run.derived.write("../escape", key, 1)
