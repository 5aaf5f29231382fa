"""Golden-file tests: JSON summaries of a handful of networks, compared field by field."""

import json
from pathlib import Path

import pytest

from tests.golden.make_golden import CASES, make

GOLDEN = Path(__file__).parent / "golden"
TOTALS = ["model", "input_size", "num_classes", "output_shape", "params", "trainable_params", "frozen_params",
          "buffers", "macs", "flops", "weight_bytes", "activation_bytes"]
LAYER_FIELDS = ["name", "type", "depth", "output_shape", "params", "trainable_params", "macs", "flops",
                "activation_bytes", "receptive_field"]


@pytest.mark.parametrize("case", list(CASES))
def test_summary_matches_golden(case):
    want = json.loads((GOLDEN / f"{case}.json").read_text())
    got = json.loads(json.dumps(make(case)))
    for key in TOTALS:
        assert got[key] == want[key], f"{case}: total {key}"
    assert len(got["layers"]) == len(want["layers"]), case
    for g, w in zip(got["layers"], want["layers"], strict=True):
        for key in LAYER_FIELDS:
            assert g[key] == w[key], f"{case}: layer {w['name']} field {key}"
