"""Measured per-layer latency: real timings of a small net, the cache, the CLI and the chart."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from explorer.charts.profile import share_table, time_vs_macs_chart
from explorer.cli import main
from explorer.inspect.profile import (
    DeviceUnavailableError,
    load_profiles,
    measure,
    measured_latency,
    save_profile,
)


def small_net() -> nn.Module:
    """Conv work large enough to dominate hook overhead."""
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1),
                         nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(2), nn.Conv2d(64, 64, 3, padding=1),
                         nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


@pytest.fixture
def one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def test_layer_sum_within_15_percent_of_whole_forward(one_thread):
    p = measure(small_net(), (3, 64, 64), repeats=40, budget_s=None)
    assert [r.name for r in p.layers] == [str(i) for i in range(11)]
    assert abs(p.sum_ratio - 1) < 0.15, p.to_text()
    assert all(r.forward_p25_s <= r.forward_s <= r.forward_p75_s for r in p.layers)


def test_macs_gflops_and_blocks(one_thread):
    p = measure(small_net(), (3, 32, 32), repeats=5, budget_s=None)
    conv = p.layers[2]
    assert conv.macs == 32 * 32 * 64 * 32 * 9  # out pixels x out channels x in channels x kernel
    assert conv.gflops == pytest.approx(2 * conv.macs / conv.forward_s / 1e9)
    assert p.layers[1].gflops is None  # ReLU: no counted work
    b = p.blocks()
    assert b["MACs %"].sum() == pytest.approx(100) and b["Time %"].sum() == pytest.approx(100)
    assert set(share_table(p)["share"]) == {"Time %", "MACs %"}
    assert time_vs_macs_chart(p).to_dict()["mark"]["type"] == "bar"


def test_backward_times_every_parametrised_layer_and_restores_model(one_thread):
    net = small_net().train()
    p = measure(net, (3, 32, 32), repeats=3, backward=True, budget_s=None)
    assert p.whole_backward_s and p.whole_backward_s > 0
    for r in p.layers:
        if r.type in ("Conv2d", "Linear", "BatchNorm2d"):
            assert r.backward_s and r.backward_s > 0, r
    assert net.training and all(p.grad is None for p in net.parameters())
    assert not net[0]._forward_hooks and not net[0]._forward_pre_hooks


def test_cuda_absent_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("CUDA present: the error path cannot be reached")
    with pytest.raises(DeviceUnavailableError, match="there is no GPU here.*use 'auto' or 'cpu'"):
        measure(small_net(), (3, 16, 16), device="cuda")


def test_cache_roundtrip_and_latency_table(tmp_path, one_thread):
    p = measure(small_net(), (3, 16, 16), repeats=3, name="tiny")
    path = save_profile(p, str(tmp_path))
    (tmp_path / "broken.json").write_text("{not json")
    back = load_profiles(str(tmp_path))
    assert path.is_file() and len(back) == 1
    assert back[0].whole_forward_s == p.whole_forward_s and back[0].layers[2].macs == p.layers[2].macs
    df = measured_latency(str(tmp_path))
    assert df.loc[0, "model"] == "tiny" and df.loc[0, "measured ms"] == pytest.approx(p.whole_forward_s * 1e3)


def test_cli_profile_json_and_saved(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("EXPLORER_PROFILES", str(tmp_path))
    assert main(["profile", "lenet5", "--letters", "--repeats", "3", "--json", "--threads", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model_name"] == "lenet5 (letters)" and out["input_size"] == [1, 28, 28] and out["layers"]
    assert len(list(tmp_path.glob("*.json"))) == 1


def test_cli_profile_errors(capsys):
    assert main(["profile", "lenet5", "--input-size", "3,0,5"]) == 2
    assert "must be positive" in capsys.readouterr().err
    assert main(["profile", "no_such_net"]) == 2
