"""Streamlit helpers for the Learn page: which network and input, the traced forward (kept per session), the
"follow one number" panel (a clickable feature map, the breakdown step by step, the softmax) and the
network overview with folded blocks. The logic is explorer.learn; the playground is explorer.ui.learn_playground."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import streamlit as st

from explorer.charts.learn import (
    UNIT_SELECTION,
    bars_chart,
    grid_chart,
    map_heatmap,
    selected_unit,
    softmax_chart,
    vector_chart,
)
from explorer.learn import LearnError, Network, Row, Trace, follow, maps, overview_rows, softmax_view
from explorer.learn.breakdown import Breakdown
from explorer.learn.conv import ConvCell
from explorer.learn.linear import LinearCell
from explorer.learn.ops import fmt
from explorer.learn.pooling import PoolCell
from explorer.learn.text import check_text, unit_text
from explorer.ui.layout import render_chart
from explorer.ui.run_picker import render_page_link
from explorer.untrusted import md_escape

NETWORKS = ("A trained run", "An untrained architecture")
INPUTS = ("Your drawing", "Example letter", "Test image")
LAYER_KEY = "learn_layer"
THUMBS = 8  # channels shown per overview row


# ------------------------------------------------------------------------------ network and input
def pick_network(has_runs: bool) -> Network | None:
    """A trained run (from the one model cache) or an untrained registry model; None with a message."""
    from explorer.learn import from_run, untrained
    from explorer.models import get_card, list_models
    from explorer.ui.run_picker import pick_run

    st.session_state.setdefault("learn_net", NETWORKS[0] if has_runs else NETWORKS[1])
    kind = st.radio("Network", NETWORKS, horizontal=True, key="learn_net")
    if kind == NETWORKS[0]:
        run = pick_run("learn_run")
        if run is None:
            return None
        try:
            with st.spinner("Loading the run's model..."):
                return from_run(run)
        except LearnError as exc:
            st.error(md_escape(exc))
            return None
    names = list_models()
    st.session_state.setdefault("learn_arch", "small_cnn")
    arch = st.selectbox("Architecture (untrained: freshly initialised weights, seed 0)", names, key="learn_arch",
                        format_func=lambda n: get_card(n).title)
    with st.spinner(f"Building {get_card(arch).title}..."):
        return untrained(arch)


def pick_input(net: Network) -> tuple[np.ndarray, str] | None:
    """The drawing from Draw, an example letter or a test image -> (float32 (1, 28, 28), description)."""
    from explorer.learn import as_input

    if "learn_input" not in st.session_state:
        st.session_state["learn_input"] = INPUTS[0] if st.session_state.get("last_drawing") is not None else INPUTS[1]
    source = st.radio("Input", INPUTS, horizontal=True, key="learn_input")
    try:
        if source == INPUTS[0]:
            drawing = st.session_state.get("last_drawing")
            if drawing is None:
                st.info("No drawing yet: draw a letter on the Draw page, then come back (or pick an example letter).")
                render_page_link("draw", "Go to the Draw page", ":material/draw:")
                return None
            return as_input(drawing)[0].numpy(), "your drawing"
        if source == INPUTS[1]:
            from explorer.ui.examples import pick_example

            example = pick_example("learn_example")
            return None if example is None else (_example(example[0]), f"example letter {example[1]}")
        return _test_image(net)
    except (LearnError, ValueError) as exc:
        st.error(md_escape(exc))
        return None


@st.cache_data(show_spinner=False, max_entries=16)
def _example(data: bytes) -> np.ndarray:
    from explorer.data import preprocess_image

    return preprocess_image(data).numpy()


def _test_image(net: Network) -> tuple[np.ndarray, str] | None:
    from explorer.learn import image_input
    from explorer.learn.network import test_split

    with st.spinner("Loading the test split..."):
        n = len(test_split(net)[0])
    i = int(st.number_input(f"Test image (0 to {n - 1})", 0, max(0, n - 1), 0, key="learn_test_index"))
    x, described = image_input(f"test:{i}", net)
    return x.numpy(), described


def current_trace(net: Network, x: np.ndarray) -> Trace:
    """The traced forward of this network on this input, kept in the session (one per session)."""
    from explorer.learn import trace
    from explorer.learn.network import as_input

    key = (net.arch, net.title, id(net.model),
           hashlib.sha1(np.ascontiguousarray(x, dtype=np.float32).tobytes()).hexdigest())
    kept = st.session_state.get("learn_trace")
    if kept is None or kept[0] != key:
        with st.spinner("Running the network once and recording every step..."):
            kept = (key, trace(net.model, as_input(x)))
        st.session_state["learn_trace"] = kept
    return kept[1]


def first_filters(net: Network | None) -> np.ndarray | None:
    """The network's first convolution's kernels on its first input channel (K, kh, kw), for the playground."""
    from explorer.models import model_card

    if net is None:
        return None
    try:
        w = net.model.get_submodule(f"net.{model_card(net.model).first_conv}").weight
    except AttributeError:
        return None
    return w.detach().float().cpu().numpy()[:16, 0]


def render_input(x: np.ndarray, described: str) -> None:
    """The 28x28 input as the model sees it, enlarged."""
    img = (np.clip(x[0], 0, 1) * 255).round().astype(np.uint8).repeat(4, 0).repeat(4, 1)
    st.image(img, caption=md_escape(described), width=112)


# ------------------------------------------------------------------------------ follow one number
def layer_label(tr: Trace, name: str) -> str:
    """'net.layer1.0 (BasicBlock) 64×14×14'; the whole network as 'net: the network's output (logits)'."""
    lay = tr.layers[name]
    if name == "net":
        return f"net: the network's output, the logits ({lay.shape[0]} classes)"
    return f"{name} ({lay.type}) {'×'.join(map(str, lay.shape))}"


def layer_names(tr: Trace) -> list[str]:
    """Layers with channel maps or a vector of numbers in the order they run; the whole net last."""
    names = [lay.name for lay in tr.ordered() if (lay.spatial or lay.vector) and lay.name != "net"]
    return names + (["net"] if "net" in tr.layers and tr.layers["net"].vector else [])


def _strongest(values: np.ndarray) -> tuple[int, ...]:
    i = int(np.argmax(np.abs(values)))
    return tuple(int(v) for v in np.unravel_index(i, values.shape))


def _layer_choice(tr: Trace, default: str) -> str:
    names = layer_names(tr)
    if st.session_state.get(LAYER_KEY) not in names:
        st.session_state[LAYER_KEY] = default if default in names else names[0]
    return st.selectbox("Layer (every module with channel maps or a vector of numbers, in the order they run)",
                        names, key=LAYER_KEY, format_func=lambda n: layer_label(tr, n))


def open_layer(layer: str) -> None:
    """Button callback (overview): show this layer in the panel above, at its strongest unit."""
    st.session_state[LAYER_KEY] = layer
    st.session_state.pop("learn_unit_for", None)


@st.fragment
def render_follow_and_overview(net: Network, tr: Trace, default_layer: str) -> None:
    """The follow panel and the overview under it, as one fragment: a click on a unit or an overview row
    reruns only this part of the page."""
    render_follow(net, tr, default_layer)
    st.subheader("The whole network at a glance")
    render_overview(tr)


def render_follow(net: Network, tr: Trace, default_layer: str) -> Breakdown | None:
    """Pick a layer and a unit (click the map or type it), then show how that number came about."""
    layer = _layer_choice(tr, default_layer)
    lay = tr.layers[layer]
    values = maps(tr, layer)
    stamp = (id(tr), layer)
    if st.session_state.get("learn_unit_for") != stamp:  # a new layer or input: start at its strongest unit
        unit = _strongest(values)
        for k, v in zip(("learn_c", "learn_y", "learn_x") if lay.spatial else ("learn_k",), unit, strict=True):
            st.session_state[k] = v
        st.session_state["learn_unit_for"] = stamp
    row = st.container(horizontal=True, gap="large")
    left, right = row.container(width=340), row.container(width="stretch")
    with left:
        unit = _unit_picker(tr, lay, values, net)
    try:
        b = follow(tr, layer, unit)
    except LearnError as exc:
        right.error(md_escape(exc))
        return None
    with right:
        render_breakdown(b)
    if tr.layers[layer].node == tr.output_node:
        render_softmax(tr, net, int(unit[0]))
    return b


def _unit_picker(tr: Trace, lay: Any, values: np.ndarray, net: Network) -> tuple[int, ...]:
    """Number inputs (the fallback) and the clickable map or bars; returns the unit."""
    if lay.spatial:
        c_max, h, w = values.shape
        c = int(st.number_input(f"Channel (0 to {c_max - 1})", 0, c_max - 1, key="learn_c"))
        chart_key = f"learn_map_{lay.name}_{c}"
        clicked = selected_unit(st.session_state.get(chart_key))
        if clicked is not None and clicked != st.session_state.get(f"{chart_key}_clicked"):
            st.session_state["learn_y"], st.session_state["learn_x"] = clicked
        st.session_state[f"{chart_key}_clicked"] = clicked
        a, b = st.columns(2)
        y = int(a.number_input(f"Row (0 to {h - 1})", 0, h - 1, key="learn_y"))
        x = int(b.number_input(f"Column (0 to {w - 1})", 0, w - 1, key="learn_x"))
        with st.container(key="learn-activation"):
            st.markdown(f"Activation at channel {c}, row {y}, column {x}: **{fmt(float(values[c, y, x]))}**")
        render_chart(map_heatmap(values[c], (y, x), f"{lay.name}, channel {c}: click a unit"), on_select="rerun",
               selection_mode=UNIT_SELECTION, key=chart_key)
        return (c, y, x)
    n = values.shape[0]
    chart_key = f"learn_vec_{lay.name}"
    clicked = selected_unit(st.session_state.get(chart_key))
    if clicked is not None and clicked != st.session_state.get(f"{chart_key}_clicked"):
        st.session_state["learn_k"] = clicked[0]
    st.session_state[f"{chart_key}_clicked"] = clicked
    k = int(st.number_input(f"Unit (0 to {n - 1})", 0, n - 1, key="learn_k"))
    labels = net.classes if tr.layers[lay.name].node == tr.output_node else None
    with st.container(key="learn-activation"):
        st.markdown(f"Activation of unit {k}: **{fmt(float(values[k]))}**")
    render_chart(vector_chart(values, labels, k, f"{lay.name}: click a unit"), on_select="rerun",
                    selection_mode=UNIT_SELECTION, key=chart_key)
    return (k,)


def render_breakdown(b: Breakdown) -> None:
    """Each step with its numbers, then the check against the model's activation."""
    st.markdown(f"**How {md_escape(unit_text(b))} of {md_escape(b.layer)} comes about**")
    for i, s in enumerate(b.steps, 1):
        with st.container(border=True):
            st.markdown(f"**{i}. {md_escape(s.title)}**")
            for n in s.notes:
                st.caption(md_escape(n))
            if isinstance(s.detail, ConvCell):
                _conv_detail(s.detail, f"learn_conv_{b.layer}_{i}")
            elif isinstance(s.detail, PoolCell):
                _pool_detail(s.detail)
            elif isinstance(s.detail, LinearCell):
                _linear_detail(s.detail)
            st.code(s.formula, language=None, wrap_lines=True)
    for n in b.notes:
        st.caption(md_escape(n))
    with st.container(key="learn-check"):
        (st.success if b.ok else st.error)(check_text(b))


def _conv_detail(d: ConvCell, key: str) -> None:
    """Patch, kernel and products of one input channel (the largest contributor first) and per-channel sums."""
    order = [int(j) for j in np.argsort(-np.abs(d.channel_sums), kind="stable")]
    j = order[0]
    if len(order) > 1:
        j = st.selectbox("Input channel (largest contribution first)", order, key=key,
                         format_func=lambda t: f"channel {d.in_channels[t]}: sum {fmt(float(d.channel_sums[t]))}")
    pad = [(r, c) for r in range(d.patch.shape[1]) for c in range(d.patch.shape[2])
           if d.rows[r] < 0 or d.cols[c] < 0]
    small = max(d.kernel.shape[1:]) <= 7
    kh, kw = d.kernel.shape[1:]
    size = min(200, 40 * max(kh, kw)) if small else 150
    with st.container(horizontal=True, gap="small"):
        render_chart(grid_chart(_mark_pad(d.patch[j], pad), title="input patch", size=size))
        render_chart(grid_chart(d.kernel[j], title="× kernel", size=size))
        render_chart(grid_chart(d.products[j], title="= products", size=size))
    st.caption(f"Input channel {d.in_channels[j]} under the {kh}×{kw} kernel (rows {_span(d.rows)}, columns "
               f"{_span(d.cols)}): its products add up to {fmt(float(d.channel_sums[j]))}"
               + (". Empty cells: zero padding" if pad else ""))
    if len(order) > 1:
        top = order[:12]
        render_chart(bars_chart(d.channel_sums[top], [f"ch {d.in_channels[t]}" for t in top],
                                   f"per-channel sums (top {len(top)} of {len(order)})", width=240,
                                   highlight=top.index(j) if j in top else None))


def _span(idx: np.ndarray) -> str:
    inside = [int(i) for i in idx if i >= 0]
    return f"{inside[0]}–{inside[-1]}" if inside else "none (all padding)"


def _mark_pad(patch: np.ndarray, pad: list[tuple[int, int]]) -> np.ndarray:
    out = patch.astype(float).copy()
    for r, c in pad:
        out[r, c] = np.nan
    return out


def _pool_detail(d: PoolCell) -> None:
    """The pooling window, the winner outlined."""
    win = [] if d.winner is None else [d.winner]
    render_chart(grid_chart(d.values, window=win, title=f"window ({d.values.shape[0]}×{d.values.shape[1]})",
                               size=min(200, 36 * max(d.values.shape))))


def _linear_detail(d: LinearCell) -> None:
    """The largest contributions x_j · w_kj."""
    import pandas as pd

    st.dataframe(pd.DataFrame({"input": d.sources, "x_j": d.inputs[d.top], "w_kj": d.weights[d.top],
                               "x_j·w_kj": d.contributions[d.top]}), hide_index=True, width="stretch")


def render_softmax(tr: Trace, net: Network, k: int) -> None:
    """The output layer: the real logits, e^(z - max z), their sum and probabilities summing to 1."""
    import pandas as pd

    s = softmax_view(tr, net.classes)
    st.subheader("Softmax: from logits to probabilities")
    st.code("p_k = e^(z_k) / Σ_j e^(z_j)   (computed as e^(z_k − max z) / Σ_j e^(z_j − max z): the same value)",
            language=None, wrap_lines=True)
    st.markdown(md_escape(s.formula(k)))  # class names come from the run: escaped text, never markup
    row = st.container(horizontal=True, gap="large")
    with row.container(width=340):
        render_chart(softmax_chart(s.probs, s.classes))
    with row.container(width="stretch"):
        st.dataframe(pd.DataFrame({"class": s.classes, "logit z": s.logits, "e^(z − max z)": s.exps,
                                   "p": s.probs}).iloc[s.order], hide_index=True, height=260)
    with st.container(key="learn-softmax-sum"):
        st.markdown(f"Σ p = **{s.sum:.6f}** over {len(s.probs)} classes "
                    f"(Σ e^(z − max z) = {fmt(s.total)})")


# ------------------------------------------------------------------------------ the network at a glance
def render_overview(tr: Trace) -> None:
    """Every layer's output for this input, in order; repeated blocks folded (unfold on demand)."""
    rows = overview_rows(tr)
    total = sum(r.count for r in rows)
    st.caption(f"{len(rows)} rows for {total} layers, each with its first {THUMBS} channels for this input. Click a "
               "name to open that layer in the panel above; repeated blocks are folded into one row (**unfold** it).")
    for r in rows:
        _overview_row(tr, r, 0)


def _overview_row(tr: Trace, r: Row, depth: int) -> None:
    """One row: the layer's name (a button that opens it above), its type and shape, its first channels."""
    from explorer.explain.view import feature_grid

    chosen = st.session_state.get(LAYER_KEY) == r.layer
    with st.container(horizontal=True, gap="small", vertical_alignment="center", border=chosen):
        if depth:
            st.container(width=18 * depth, height=8, border=False)  # indent the blocks of an unfolded row
        with st.container(width=max(150, 300 - 18 * depth), gap=None):
            st.button(r.label, key=f"learn_open_{r.name}_{r.layer}", on_click=open_layer, args=(r.layer,),
                      type="tertiary", help=f"show {r.layer} in the panel above")
            st.caption(f"{md_escape(r.type)} · {'×'.join(map(str, r.shape))}"
                       + (f" · {r.count} layers" if r.children else ""))
        with st.container(width=90):  # the same slot on every row keeps the thumbnails in one column
            opened = bool(r.children) and st.toggle("unfold", key=f"learn_unfold_{r.name}")
        values = maps(tr, r.layer)
        if values.ndim == 3:
            shown = values[:THUMBS]
            scale = max(1, 32 // max(values.shape[1:]))
            st.image(feature_grid(shown, ncols=len(shown), scale=scale), width=max(40, min(340, shown.shape[0] * 34)))
        else:
            st.caption("numbers: " + ", ".join(fmt(float(v)) for v in values[:6]) + (" …" if len(values) > 6 else ""))
    if opened:
        for child in r.children:
            _overview_row(tr, child, depth + 1)
