"""Designs (issue 26): the course's design to the document's numbers and a real run; 200 random valid designs
against torch's shapes and the inspector's counts; 100 invalid ones each named; hostile files refused; the
registry, the store and a run that keeps its own design."""

from __future__ import annotations

import json
import random

import pytest
import torch
from torch import nn

from explorer.config import TrainConfig
from explorer.design import (
    LAYERS,
    DesignError,
    build_net,
    check,
    default_layer,
    delete_design,
    empty,
    export_design,
    import_design,
    list_designs,
    load_design,
    parse_design,
    save_design,
    shape_text,
    starter,
    starter_names,
)
from explorer.inspect import summarize
from explorer.models import UnknownModelError, build_letters_model, get_card, list_models
from explorer.runs import export_run, import_run
from explorer.train.job import train

TINY = {"name": "letters-builtin", "size": 10, "val_fraction": 0.1}


def test_course_design_gives_the_documents_numbers():
    c = check(starter("course-cnn"), num_classes=10)
    assert c.ok
    outs = [shape_text(r.out_shape) for r in c.rows if r.kind in ("conv", "maxpool")]
    assert outs == ["28×28×16", "14×14×16", "14×14×32", "7×7×32"]
    formulas = [r.formulas[0] for r in c.rows if r.kind in ("conv", "maxpool")]
    assert formulas[0] == "W_out = (28 − 5 + 2(2))/1 + 1 = 28" and formulas[1] == "W_out = (28 − 2)/2 + 1 = 14"
    assert c.rows[-1].kind == "classifier" and c.rows[-1].in_shape == (1568,) and c.rows[-1].out_shape == (10,)
    assert c.params == 29_034  # 416 + 32 + 12,832 + 64 + 15,690


def test_starters_build_and_lenet_takes_32():
    for name in starter_names():
        d = starter(name)
        model = build_letters_model(f"design:{name}", 26, spec=d.to_dict())
        assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 26)
    lenet = check(starter("lenet5-1998"), 10)
    assert [shape_text(r.out_shape) for r in lenet.rows[1:8:3]] == ["28×28×6", "10×10×16", "1×1×120"]


def test_course_design_trains_to_a_completed_run_that_keeps_its_design(tmp_path):
    save_design(starter("course-cnn", "course"))
    assert "design:course" in list_models() and get_card("design:course").source == "design"
    cfg = TrainConfig.from_dict({"model": "design:course", "data": dict(TINY), "epochs": 1, "batch_size": 64,
                                 "lr": 0.05, "device": "cpu"})
    run = train(cfg, root=tmp_path)
    assert run.status["status"] == "completed" and 0 <= run.metrics()["test_acc"] <= 1
    kept = json.loads((run.path / "design.json").read_text())
    assert kept["name"] == "course" and len(kept["layers"]) == 9
    # Edit, then delete the saved design: the run rebuilds what it trained.
    d = load_design("course")
    save_design(d.replace(layers=[*d.to_dict()["layers"], {"type": "linear", "features": 7}]))
    assert run.load_model().net.classifier.in_features == 1568
    delete_design("course")
    with pytest.raises(UnknownModelError, match="no saved design"):
        get_card("design:course")
    model = run.load_model()
    assert model.card.first_conv == "conv1" and model(torch.zeros(1, 1, 28, 28)).shape == (1, 26)
    back = import_run(export_run(run, tmp_path / "run.zip"), root=tmp_path / "other")
    assert back.model_spec() == kept and back.load_model().num_classes == 26


# ---- 200 random valid designs against torch and the inspector --------------------------------------------------

def _random_layer(rng: random.Random, flat: bool) -> dict:
    if flat:
        kind = rng.choice(["linear", "relu", "dropout", "gelu", "tanh", "linear"])
    else:
        kind = rng.choice(["conv", "conv", "conv", "batchnorm", "relu", "leakyrelu", "sigmoid", "maxpool", "avgpool",
                           "adaptive_avgpool", "adaptive_maxpool", "dropout", "residual", "inception", "flatten"])
    layer = default_layer(kind)
    if kind == "conv":
        g = rng.choice([1, 1, 2])
        layer.update(filters=rng.choice([2, 4, 6]) * g, kernel=rng.randint(1, 5), stride=rng.randint(1, 2),
                     padding=rng.randint(0, 2), dilation=rng.choice([1, 1, 2]), groups=g, bias=rng.random() < 0.7)
    elif kind in ("maxpool", "avgpool"):
        k = rng.randint(1, 3)
        layer.update(kernel=k, stride=rng.randint(1, 3), padding=rng.randint(0, k // 2))
    elif kind.startswith("adaptive"):
        layer.update(size=rng.randint(1, 3))
    elif kind == "linear":
        layer.update(features=rng.randint(1, 24))
    elif kind == "residual":
        layer.update(filters=rng.choice([2, 4, 8]), stride=rng.randint(1, 2))
    elif kind == "inception":
        layer.update(b1=rng.randint(1, 4), b3=rng.randint(1, 4), b5=rng.randint(1, 4), pool=rng.randint(1, 4),
                     reduce3=rng.choice([0, 2]), reduce5=rng.choice([0, 2]))
    elif kind == "leakyrelu":
        layer.update(slope=round(rng.random(), 2))
    elif kind == "dropout":
        layer.update(p=0.2)
    return layer


def random_valid(rng: random.Random, i: int) -> dict:
    """A design grown layer by layer, keeping only layers the checker accepts, ending flat."""
    spec = {"name": f"r{i}", "input_size": rng.choice([16, 20, 28]), "layers": []}
    flat = False
    for _ in range(rng.randint(1, 9)):
        layer = _random_layer(rng, flat)
        trial = {**spec, "layers": [*spec["layers"], layer]}
        c = check(parse_design(trial), 5)
        if c.error is None or c.error.kind == "classifier":
            spec = trial
            flat = flat or layer["type"] == "flatten"
    if not flat:
        spec["layers"].append({"type": "flatten"})
    return spec


@pytest.fixture()
def one_thread():
    """Tiny forwards run 10x faster on one thread than on two shared ones."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_200_random_valid_designs_match_torch_and_the_inspector(one_thread):
    rng = random.Random(26)
    kinds = set()
    for i in range(200):
        design = parse_design(random_valid(rng, i))
        c = check(design, num_classes=5)
        assert c.ok, c.error.message
        net = build_net(design, 5).eval()
        seen: dict[str, tuple[int, ...]] = {}
        hooks = [m.register_forward_hook(lambda _m, _i, out, n=n, seen=seen: seen.__setitem__(n, tuple(out.shape[1:])))
                 for n, m in net.named_children()]
        with torch.no_grad():
            out = net(torch.rand(1, 1, design.input_size, design.input_size))
        for h in hooks:
            h.remove()
        assert out.shape == (1, 5)
        summary = summarize(net, (1, design.input_size, design.input_size)) if i % 4 == 0 else None
        records = {r.name: r for r in summary.layers} if summary else {}
        for row in c.rows[1:]:
            kinds.add(row.kind)
            mod: nn.Module = net.get_submodule(row.module)
            assert seen[row.module] == row.out_shape, (i, row.label, seen[row.module], row.out_shape)
            assert sum(p.numel() for p in mod.parameters()) == row.params, (i, row.label)
            if summary:
                assert records[row.module].params == row.params and records[row.module].macs == row.macs, row.label
        if summary:
            assert summary.params == c.params and summary.macs == c.macs
    assert kinds >= set(LAYERS) | {"classifier"}, set(LAYERS) - kinds  # every layer type was checked


# ---- 100 invalid designs, each named --------------------------------------------------------------------------

BREAKERS = [
    ("conv", {"type": "conv", "filters": 4, "kernel": 15, "dilation": 3}, "covers"),  # larger than the input
    ("fraction", {"type": "maxpool", "kernel": 2, "stride": 2}, "whole number"),  # (7 - 2)/2 + 1 = 3.5
    ("groups", {"type": "conv", "filters": 5, "kernel": 1, "groups": 3}, "channels do not match"),
    ("linear", {"type": "linear", "features": 10}, "Flatten before"),
    ("after_flatten", {"type": "conv", "filters": 4, "kernel": 1}, "flat vector"),
    ("bn_after_flatten", {"type": "batchnorm"}, "flat vector"),
    ("adaptive", {"type": "adaptive_avgpool", "size": 64}, "cannot pool"),
    ("pool_padding", {"type": "avgpool", "kernel": 2, "stride": 1, "padding": 2}, "more than half"),
]


def test_100_invalid_designs_each_name_the_layer():
    rng = random.Random(260)
    for i in range(100):
        valid = random_valid(rng, i)
        flat_at = next(j for j, x in enumerate(valid["layers"]) if x["type"] == "flatten")
        base = valid["layers"][:flat_at]  # the valid layers before the flatten: a volume
        key, bad, words = BREAKERS[i % len(BREAKERS)]
        at = rng.randint(0, len(base))
        # the random layers, then a 7x7x7 volume (whatever they made), then the layer that cannot follow
        layers = base[:at] + [{"type": "adaptive_avgpool", "size": 1}, {"type": "conv", "filters": 7, "kernel": 1,
                                                                        "padding": 3}]
        if key in ("after_flatten", "bn_after_flatten"):
            layers.append({"type": "flatten"})
        layers.append(dict(bad))
        design = parse_design({"name": f"bad{i}", "input_size": valid["input_size"], "layers": layers + [{"type": "flatten"}]})
        c = check(design, 26)
        assert not c.ok and c.error is not None, (key, layers)
        assert c.error.index == len(layers), (key, c.error.message)
        assert c.error.message.startswith(f"layer {len(layers)} ("), c.error.message
        assert words in c.error.message and "Fix:" in c.error.message, c.error.message
        with pytest.raises(DesignError, match=f"layer {len(layers)} "):
            build_net(design, 26)
    c = check(empty("blank"))
    assert c.error.kind == "classifier" and "add a Flatten" in c.error.message


# ---- hostile files ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("obj, words", [
    ([], "JSON object"),
    ({"name": "x", "layers": [{"type": "__import__('os')"}]}, "unknown layer type"),
    ({"name": "x", "layers": [{"type": "conv", "filters": "16"}]}, "must be a number"),
    ({"name": "x", "layers": [{"type": "conv", "filters": 10**9}]}, "between 1 and 1024"),
    ({"name": "x", "layers": [{"type": "conv", "filters": 2.5}]}, "whole number"),
    ({"name": "x", "layers": [{"type": "conv", "bias": 1}]}, "true or false"),
    ({"name": "x", "layers": [{"type": "conv", "filter": 3}]}, "unknown setting filter"),
    ({"name": "x", "layers": [{"type": "relu"}] * 65}, "at most 64 layers"),
    ({"name": "../etc", "layers": []}, "not a plain name"),
    ({"name": "x", "notes": "a\x00b"}, "control characters"),
    ({"name": "x", "code": "print(1)"}, "unknown field code"),
    ({"name": "x", "format": "pickle"}, "not a design file"),
    ({"name": "x", "input_size": 100000}, "between 16 and 64"),
])
def test_hostile_designs_are_refused_with_a_reason(obj, words):
    with pytest.raises(DesignError, match=words):
        parse_design(obj)


def test_a_huge_design_is_refused_before_anything_is_allocated():
    big = parse_design({"name": "big", "input_size": 64, "layers": [
        {"type": "conv", "filters": 1024, "kernel": 1, "padding": 15}] * 2 + [{"type": "flatten"}]})
    c = check(big)
    assert not c.ok and "more than this app trains" in c.error.message


def test_store_export_import_and_the_registry(tmp_path):
    save_design(starter("tiny-vgg", "mine"))
    (tmp_path / "bad.json").write_text("{not json")
    out = export_design("mine", tmp_path / "mine.json")
    with pytest.raises(ValueError, match="already exists"):
        export_design("mine", out)
    with pytest.raises(DesignError, match="not a JSON design"):
        import_design(tmp_path / "bad.json")
    copy = import_design(out, name="copy")
    assert [d.name for d in list_designs()] == ["copy", "mine"] and copy.layers == load_design("mine").layers
    with pytest.raises(ValueError, match="exists"):
        import_design(out)
    assert get_card("design:copy").title == "copy (your design)"
    with pytest.raises(DesignError, match="at most"):
        import_design(b" " * 70_000)
