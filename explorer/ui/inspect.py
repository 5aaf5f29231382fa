"""The Inspect page (app_pages/inspect.py): model and input pickers, cached summaries, the renderers of each tab
(card, totals, layers, charts, diagram, arithmetic, measured time per layer)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from explorer.charts.inspect import cost_by_stage_chart, shape_evolution_chart, stage_table
from explorer.charts.profile import gflops_chart, time_vs_macs_chart
from explorer.inspect import InspectError, Summary, human, mb, summarize
from explorer.inspect.arithmetic import (
    arithmetic_layers,
    bottleneck_examples,
    output_size,
    separable_examples,
)
from explorer.inspect.graph import block_diagram
from explorer.inspect.notes import model_content, rf_note
from explorer.inspect.profile import profile_model, save_profile
from explorer.models import ModelCard, build_letters_model, get_card, list_cards
from explorer.ui.layout import render_chart, render_wrapping_charts


@st.cache_resource(max_entries=64, show_spinner=False)
def cached_summary(name: str, letters: bool, size: tuple[int, int, int], num_classes: int,
                   batch_size: int, content: str = "") -> Summary:
    """Summarise once per (model, input, classes, batch, content: a design's JSON, so an edit is seen)."""
    if letters:
        with torch.device("meta"):
            model = build_letters_model(name, num_classes=num_classes)
        return summarize(model, size, batch_size=batch_size)
    return summarize(name, size, batch_size=batch_size, num_classes=num_classes)


def model_picker(key: str = "model", default: str = "resnet18") -> ModelCard:
    """A selectbox over the registry, labelled with titles; returns the chosen card."""
    cards = list_cards()
    names = [c.name for c in cards]
    titles = {c.name: c.heading for c in cards}
    choice = st.selectbox("Architecture", names, index=names.index(default), key=key, format_func=titles.get)
    return get_card(choice)


def input_picker(card: ModelCard) -> tuple[bool, tuple[int, int, int], int, int]:
    """Input preset (reference / letters / custom) and batch size -> (letters, size, classes, batch)."""
    c, h, w = card.input_size
    presets = [f"Reference: {c}×{h}×{w}, {card.ref_classes:,} classes", "Letters: 1×28×28, 26 classes", "Custom C×H×W"]
    cols = st.columns([3, 1])
    preset = cols[0].radio("Input", presets, horizontal=True, key="input_preset")
    batch = int(cols[1].number_input("Batch size", 1, 4096, 1, key="batch_size"))
    if preset == presets[0]:
        st.caption(f"Reference = the published network: its input size and its {card.ref_classes:,} classes "
                   f"({card.ref_task}); the classifier's size follows the number of classes.")
        return False, card.input_size, card.ref_classes, batch
    if preset == presets[1]:
        return True, (1, 28, 28), 26, batch
    cc = st.columns(4)
    size = (int(cc[0].number_input("C", value=c, step=1, key="in_c")),
            int(cc[1].number_input("H", value=h, step=1, key="in_h")),
            int(cc[2].number_input("W", value=w, step=1, key="in_w")))
    classes = int(cc[3].number_input("Classes", value=card.ref_classes, step=1, key="in_classes"))
    return False, size, classes, batch


def render_card(card: ModelCard) -> None:
    """The model's card: year, paper, key idea, reference accuracy, letters adaptation."""
    st.markdown(f"### {card.heading}")
    paper = f"[{card.paper}]({card.url})" if card.url else card.paper
    st.markdown(f"**Paper:** {paper}  \n**Key idea:** {card.key_idea}")
    acc = "not published for ImageNet"
    if card.top1 is not None:
        acc = f"top-1 {card.top1:.1f}%" + (f", top-5 {card.top5:.1f}%" if card.top5 else "")
        acc += f" — {card.accuracy_source}"
    src = {"torchvision": "torchvision", "timm": "timm", "explorer": "hand-written (no library ships it)"}
    st.markdown(f"**Reference accuracy (ImageNet):** {acc}  \n**Builder:** {src[card.source]}  \n"
                f"**Adapted to 28×28 letters:** {card.letters.describe()}")
    if card.notes:
        st.caption(card.notes)


TOTAL_WIDTH = 230  # px: room for "138,357,544" (VGG-16's parameters)


def render_totals(s: Summary) -> None:
    """Totals as metrics."""
    with st.container(horizontal=True, gap="medium"):  # three a row at 1400 px, wrapping (never cut) when narrow
        metric = st.metric
        metric("Parameters", f"{s.params:,}", help=f"trainable {s.trainable_params:,} · frozen {s.frozen_params:,}",
               width=TOTAL_WIDTH)
        metric("MACs", human(s.macs), help="multiply-accumulates for the whole batch", width=TOTAL_WIDTH)
        metric("FLOPs", human(s.flops), help="2 × MACs", width=TOTAL_WIDTH)
        metric("Weight memory", mb(s.weight_bytes), width=TOTAL_WIDTH)
        metric("Inference memory", mb(s.inference_bytes()), help="weights + largest layer input/output pair",
               width=TOTAL_WIDTH)
        metric("Training memory (Adam)", mb(s.training_bytes("adam")), width=TOTAL_WIDTH,
               help="weights + gradients + 2 Adam states + every layer's stored output, at this batch size")
    c, h, w = s.input_size
    st.caption(f"Input {s.batch_size}×{c}×{h}×{w} → output {'×'.join(map(str, s.output_shape))}. "
               f"Activations stored for training: {mb(s.activation_bytes)}. "
               f"SGD with momentum: {mb(s.training_bytes('sgd_momentum'))}.")


def render_layers(s: Summary) -> None:
    """The per-layer table with a depth control and a filter box."""
    cols = st.columns([2, 3])
    depth_opts = ["all leaves", *range(1, s.max_depth() + 1)]
    depth = cols[0].select_slider("Depth (collapse blocks deeper than)", depth_opts, value="all leaves", key="depth")
    query = cols[1].text_input("Filter by layer name or type", key="layer_filter", placeholder="e.g. conv, layer3")
    df = s.to_dataframe(None if depth == "all leaves" else int(depth), query)
    st.caption(f"{len(df)} rows. Rows of blocks (depth < leaves) show the sum over their layers.")
    note = rf_note(s)
    if note:
        st.info(note, icon=":material/visibility:")
    rows = st.select_slider("Table height (rows)", [10, 15, 25, 50, 100, "all"], value=15, key="layer_table_rows")
    shown = len(df) if rows == "all" else min(int(rows), max(len(df), 1))
    name_px = int(7.2 * max((len(str(n)) for n in df["Layer"]), default=10)) + 24 if "Layer" in df else 200
    st.dataframe(df, hide_index=True, width="stretch", height=35 * (shown + 1) + 3, column_config={
        "Layer": st.column_config.TextColumn(width=name_px, pinned=True),  # full names, never cut
        "Receptive field": st.column_config.TextColumn(
            help=f"Input pixels one output unit depends on; above {max(s.input_size[1:])} it covers the whole input"),
        "Params": st.column_config.NumberColumn(format="localized"),
        "Trainable": st.column_config.NumberColumn(format="localized"),
        "Frozen": st.column_config.NumberColumn(format="localized"),
        "MACs": st.column_config.NumberColumn(format="localized"),
        "FLOPs": st.column_config.NumberColumn(format="localized"),
        "Activation memory (MB)": st.column_config.NumberColumn(format="%.3f"),
    })


def render_charts(s: Summary) -> None:
    """Where parameters and compute sit; how spatial size and channels evolve."""
    render_wrapping_charts(cost_by_stage_chart(s), key="inspect_cost")  # one panel per row on a narrow window
    st.dataframe(stage_table(s).drop(columns=["order"]), hide_index=True, width="stretch")
    render_wrapping_charts(shape_evolution_chart(s), key="inspect_shapes")


def render_diagram(s: Summary) -> None:
    """The block diagram with tensor shapes on the edges."""
    top = max(s.max_depth(), 1)
    depth = st.slider("Diagram depth", 1, top, min(2, top), key="diagram_depth") if top > 1 else 1
    d = block_diagram(s, depth=depth)
    st.caption(f"{d.nodes} nodes, {d.edges} edges. Circles are operations between blocks (+ residual, concat). "
               "A dashed box is a residual block drawn open: its layers, then the + where its skip connection joins "
               "(a module used twice, like a block's ReLU, is drawn at each place it is used).")
    st.graphviz_chart(d.dot, width="content")


def render_arithmetic(s: Summary) -> None:
    """The course notes' conv arithmetic on this network's real layers."""
    layers = arithmetic_layers(s)
    st.markdown("#### Output size: W_out = (W − F + 2P) / S + 1")
    if not layers:
        st.info("This network has no convolution or pooling layer.")
    else:
        rec = st.selectbox("Layer", layers, format_func=lambda r: f"{r.name} ({r.type})", key="arith_layer")
        cfg = rec.config
        st.caption(f"kernel F={cfg['kernel']}, stride S={cfg['stride']}, padding P={cfg['padding']}, "
                   f"dilation={cfg['dilation']}" + (", ceil mode" if cfg.get("ceil_mode") else ""))
        for step in output_size(rec):
            ok = "matches" if step.w_out == step.actual else f"differs from: actual {step.actual}"
            st.code(f"{step.formula()}   ({ok} the layer's real output)", language=None)
    st.markdown("#### 1×1 bottleneck cost (Inception)")
    examples = bottleneck_examples(s)
    if examples:
        st.dataframe(pd.DataFrame([{
            "block": e.block, "input": f"{e.h}×{e.w}×{e.c_in}", "1×1 reduce to": e.c_reduce,
            "conv": f"{e.kernel}×{e.kernel}, {e.c_out}", "direct (M mult.)": round(e.direct / 1e6, 1),
            "with bottleneck (M mult.)": round(e.bottleneck / 1e6, 1), "saving": f"{e.saving:.1f}×", "note": e.note,
        } for e in examples]), hide_index=True, width="stretch")
    else:
        st.info("No Inception branch (1×1 reduce → k×k conv) here: pick GoogLeNet for the classic "
                "28×28×192 example of the course notes (120M vs 12.4M multiplies).")
    st.markdown("#### Depthwise-separable cost: 1/N + 1/Dk²")
    seps = separable_examples(s)
    if seps:
        st.dataframe(pd.DataFrame([{
            "depthwise": e.depthwise, "pointwise": e.pointwise, "Dk": e.dk, "M": e.m, "N": e.n, "Df": e.df,
            "separable MACs": e.depthwise_macs + e.pointwise_macs, "standard MACs": e.standard_macs,
            "measured ratio": round(e.ratio, 5), "1/N + 1/Dk²": round(e.formula_ratio, 5),
        } for e in seps]), hide_index=True, width="stretch")
    else:
        st.info("No depthwise + pointwise pair here: pick MobileNet v1/v2, Xception or EfficientNet.")


def summary_or_error(name: str, letters: bool, size: tuple[int, int, int], classes: int,
                     batch: int) -> Summary | None:
    """Cached summary, or None after showing a clear error with the fix."""
    try:
        with st.spinner("Summarising…"):
            return cached_summary(name, letters, size, classes, batch, model_content(name))
    except (InspectError, ValueError) as exc:
        st.error(f"{exc}")
        return None


def render_measured(name: str, letters: bool, size: tuple[int, int, int], classes: int, key: str = "measured") -> None:
    """Inspect page tab: profile on demand (device, backward, repeats) and show time vs MACs."""
    c1, c2, c3 = st.columns(3)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    device = c1.selectbox("Device", devices, key=f"{key}_device",
                          help=None if len(devices) > 1 else "CUDA is not available on this machine")
    repeats = c2.number_input("Repeats", 3, 200, 10, key=f"{key}_repeats")
    backward = c3.checkbox("Time backward too", key=f"{key}_backward")
    if not st.button("Measure", key=f"{key}_run", icon=":material/timer:"):
        st.caption("Measures real forward time per layer (warm-up, then repeats; median and quartiles) "
                   "on this machine. MACs mislead: a depthwise convolution is cheap in MACs and slow in practice.")
        return
    try:
        with st.spinner("Timing every layer..."):
            prof = profile_model(name, size, device=device, repeats=int(repeats), backward=backward,
                                 num_classes=classes, letters=letters)
    except (InspectError, RuntimeError, KeyError, ValueError) as exc:
        st.error(f"Cannot profile {name}: {exc}")
        return
    save_profile(prof)
    st.markdown(f"Whole forward **{prof.whole_forward_s * 1e3:.2f} ms** (median of {prof.repeats}, no hooks) on "
                f"{prof.device_name}, {prof.threads} threads; per-layer times add up to "
                f"{100 * prof.sum_ratio:.0f}% of it. Profiled in {prof.elapsed_s:.1f} s.")
    render_chart(time_vs_macs_chart(prof))
    render_chart(gflops_chart(prof))
    st.dataframe(prof.to_dataframe(), hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.3f")
                                for c in ("Forward ms", "p25 ms", "p75 ms", "Backward ms", "Time %", "GFLOP/s")})
