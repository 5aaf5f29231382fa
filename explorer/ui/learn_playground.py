"""Streamlit helpers for the Learn page's convolution and pooling playground (with the kernel slide) and the
course's worked examples. The arithmetic is explorer.learn (playground, sizes, slide, course)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from explorer.charts.learn import UNIT_SELECTION, grid_chart, selected_unit
from explorer.learn import (
    CONV_PRESETS,
    DESIGNS,
    KERNELS,
    POOL_MODES,
    Bottleneck,
    LearnError,
    convolve,
    downsample,
    kernel_slide,
    matrix_text,
    parse_matrix,
    pool,
    volume_1x1,
)
from explorer.learn.playground import pool_window
from explorer.ui.layout import render_chart, render_spec
from explorer.untrusted import md_escape

DRAWING_SIDES = {"the drawing, 7×7 (each cell the mean of 4×4 pixels)": 7,
                 "the drawing, 14×14 (each cell the mean of 2×2 pixels)": 14, "the drawing, 28×28 pixels": 28}
TYPED = "typed below"
PLAY_SECONDS = 0.7


def _inputs() -> dict[str, Any]:
    out: dict[str, Any] = {p.title: p for p in CONV_PRESETS.values()}
    return {**out, **{k: v for k, v in DRAWING_SIDES.items()}, TYPED: None}


def load_preset(key: str) -> None:
    """Button callback: put a course example into the playground (input, kernel, stride, padding)."""
    p = CONV_PRESETS[key]
    st.session_state["pg_input"] = p.title
    st.session_state["pg_kernel"] = TYPED
    st.session_state["pg_kernel_text"] = matrix_text(p.kernel)
    st.session_state["pg_stride"], st.session_state["pg_padding"], st.session_state["pg_dilation"] = p.stride, p.padding, 1
    st.session_state["pg_step"] = 1


def _input(x: np.ndarray | None) -> np.ndarray | None:
    """The playground's input map: a course example, the drawing (28, 14 or 7 a side) or a typed matrix."""
    options = _inputs()
    st.session_state.setdefault("pg_input", CONV_PRESETS["kernel_5x5"].title)
    choice = st.selectbox("Input", list(options), key="pg_input")
    value = options[choice]
    if value is None:
        st.session_state.setdefault("pg_input_text", matrix_text(CONV_PRESETS["conv_6x6"].x))
        text = st.text_area("Input matrix (one row per line, numbers separated by spaces or commas)",
                            key="pg_input_text", height=140)
        try:
            return parse_matrix(text, "input matrix")
        except LearnError as exc:
            st.error(md_escape(exc))
            return None
    if isinstance(value, int):
        if x is None:
            st.info("No input image yet: choose one at the top of the page (your drawing, an example, a test image).")
            return None
        return downsample(x[0], value)
    return value.x


def _kernel(filters: np.ndarray | None) -> np.ndarray | None:
    learned = [f"learned filter {i} of this network's first layer" for i in range(len(filters))] \
        if filters is not None else []
    names = [*KERNELS, *learned, TYPED]
    st.session_state.setdefault("pg_kernel", "course binary 3×3")
    if st.session_state["pg_kernel"] not in names:  # another network: its filters have other numbers
        st.session_state["pg_kernel"] = "course binary 3×3"
    choice = st.selectbox("Kernel", names, key="pg_kernel")
    if choice in KERNELS:
        return KERNELS[choice]
    if choice in learned:
        return np.round(filters[learned.index(choice)], 4)
    st.session_state.setdefault("pg_kernel_text", matrix_text(KERNELS["course binary 3×3"]))
    text = st.text_area("Kernel (one row per line)", key="pg_kernel_text", height=100)
    try:
        return parse_matrix(text, "kernel", max_side=11)
    except LearnError as exc:
        st.error(md_escape(exc))
        return None


@st.fragment
def render_playground(x: np.ndarray | None, filters: np.ndarray | None = None) -> None:
    """Input, kernel and hyper-parameters; the output with W_out worked out; the kernel slide; pooling.
    `filters` (K, kh, kw): the current network's first-layer kernels (its first input channel), offered as kernels."""
    with st.container(horizontal=True, gap="medium"):
        with st.container(width=320):
            m = _input(x)
        with st.container(width=320):
            k = _kernel(filters)
    with st.container(horizontal=True, gap="small"):
        s = int(st.number_input("Stride S", 1, 8, 1, key="pg_stride", width=120))
        p = int(st.number_input("Padding P", 0, 8, 0, key="pg_padding", width=120))
        d = int(st.number_input("Dilation D", 1, 4, 1, key="pg_dilation", width=120))
    if m is None or k is None:
        return
    res = convolve(m, k, s, p, d)
    st.markdown("**Output size**: W_out = (W − F + 2P)/S + 1" + (" with F = D(F − 1) + 1 cells" if d > 1 else ""))
    with st.container(key="pg-formula"):
        st.code(f"{res.fit_h.formula('H')}\n{res.fit_w.formula('W')}", language=None, wrap_lines=True)
        if res.problem:
            st.warning(md_escape(res.problem))
    if res.output is None:
        return
    st.subheader("Watch the kernel slide")
    _slide(m, k, s, p, d)
    st.subheader("Pooling")
    _pooling(m)


def _slide(m: np.ndarray, k: np.ndarray, s: int, p: int, d: int) -> None:
    sl = kernel_slide(m, k, s, p, d)
    n = sl.steps
    st.session_state["pg_step"] = min(max(1, int(st.session_state.get("pg_step", 1))), n)
    playing = st.toggle("Play (one position every 0.7 s)", key="pg_play")
    # the timer runs only while playing: a fragment made with run_every then, without it otherwise
    st.fragment(run_every=PLAY_SECONDS if playing else None)(_render_slide)(sl, n)


def _render_slide(sl: Any, n: int) -> None:
    """The slide's current step; while Play is on, the fragment advances one position each run."""
    if st.session_state.get("pg_play") and n > 1:
        st.session_state["pg_step"] = st.session_state.get("pg_step", 1) % n + 1
    i = int(st.slider(f"Step (1 to {n}: one output position each)", 1, max(n, 2), key="pg_step",
                      disabled=n < 2)) - 1
    step = sl.at(min(i, n - 1))
    h, w = sl.result.shape
    with st.container(horizontal=True, gap="medium"):
        render_chart(grid_chart(sl.padded(), step.cells, None, sl.padding,
                                   f"input{' with padding' if sl.padding else ''}: the kernel at step {i + 1}"))
        render_chart(grid_chart(step.filled, (), (step.y, step.x), 0, f"output {h}×{w}: cell ({step.y}, {step.x})",
                                   size=min(300, 40 * max(h, w))))
    st.code(f"cell ({step.y}, {step.x}) = {step.cell.sum_text(limit=49)}", language=None, wrap_lines=True)


def _pooling(m: np.ndarray) -> None:
    with st.container(horizontal=True, gap="small"):
        mode = st.selectbox("Pooling", POOL_MODES, key="pg_pool_mode", width=160)
        adaptive = mode.startswith("adaptive")
        size = int(st.number_input("Window F", 1, 8, 2, key="pg_pool_size", width=110, disabled=adaptive))
        stride = int(st.number_input("Stride S", 1, 8, 2, key="pg_pool_stride", width=110, disabled=adaptive))
        padding = int(st.number_input("Padding P", 0, 4, 0, key="pg_pool_padding", width=110, disabled=adaptive))
        out_size = int(st.number_input("Output size", 1, 28, 2, key="pg_pool_out", width=110, disabled=not adaptive))
    res = pool(m, mode, size, stride, padding, out_size)
    if res.fit_h is not None:
        st.code(f"{res.fit_h.formula('H', pool=True)}\n{res.fit_w.formula('W', pool=True)}", language=None)
    else:
        st.caption("Adaptive pooling: you give the output size; window i spans rows floor(i·H/out) to "
                   "ceil((i+1)·H/out) (the stride and size follow from the sizes).")
    if res.problem:
        st.warning(md_escape(res.problem))
    if res.output is None:
        return
    key = "pg_pool_chart"
    picked = selected_unit(st.session_state.get(key)) or (0, 0)
    y, x = min(picked[0], res.output.shape[0] - 1), min(picked[1], res.output.shape[1] - 1)
    cell = pool_window(m, mode, size, stride, padding, y, x, out_size)
    rows = [int(r) + (0 if adaptive else padding) for r in cell.rows]
    cols = [int(c) + (0 if adaptive else padding) for c in cell.cols]
    win = [(r, c) for r in rows for c in cols]
    with st.container(horizontal=True, gap="medium"):
        render_chart(grid_chart(np.pad(m, 0 if adaptive else padding), win, None, 0 if adaptive else padding,
                                   f"input: the window of output ({y}, {x})"))
        render_chart(grid_chart(res.output, (), (y, x), 0, f"{mode} pooled {res.output.shape[0]}×"
                                   f"{res.output.shape[1]}: click a cell", size=min(300, 44 * max(res.output.shape)),
                                   selectable=True), on_select="rerun", selection_mode=UNIT_SELECTION, key=key)
    st.code(f"output ({y}, {x}) = {cell.text()}", language=None, wrap_lines=True)


# ------------------------------------------------------------------------------ course examples
@st.cache_data(show_spinner=False)
def _preset_specs(key: str) -> list[dict]:
    """The input, kernel and output grids of a course preset as Vega-Lite specs (they never change: built once)."""
    p = CONV_PRESETS[key]
    res = p.run()
    window = [(r, c) for r in range(p.kernel.shape[0]) for c in range(p.kernel.shape[1])]
    return [grid_chart(p.x, window, title=f"input {p.x.shape[0]}×{p.x.shape[1]}", size=200).to_dict(),
            grid_chart(p.kernel, title="kernel", size=90).to_dict(),
            grid_chart(res.output, (), (0, 0), title=f"output {res.shape[0]}×{res.shape[1]}", size=160).to_dict()]


def render_course_examples(x: np.ndarray | None) -> None:
    """Each worked example of the course with the document's numbers beside the computed ones."""
    for p in CONV_PRESETS.values():
        with st.container(border=True):
            st.markdown(f"**{md_escape(p.title)}**")
            st.caption(md_escape(p.source))
            res = p.run()
            with st.container(horizontal=True, gap="medium"):
                for spec in _preset_specs(p.key):
                    render_spec(spec)
            st.code(f"{res.fit_w.formula('W')}\nfirst cell = {kernel_cell_text(p)}", language=None, wrap_lines=True)
            doc = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in p.document.items())
            st.caption(f"The document: {doc}. Computed: output {res.shape[0]}×{res.shape[1]}, "
                       f"first cell {res.output[0, 0]:g}.")
            st.button("Open in the playground", key=f"learn_preset_{p.key}", on_click=load_preset, args=(p.key,))
    _one_by_one()
    for d in DESIGNS.values():
        _design(d, x if d.input == (28, 28, 1) else None)


def kernel_cell_text(p: Any) -> str:
    """The first output cell of a preset with every product."""
    from explorer.learn.playground import cell

    return cell(p.x, p.kernel, 0, 0, p.stride, p.padding, 1).sum_text(limit=49)


@st.cache_data(show_spinner=False)
def _volume_spec() -> dict:
    return grid_chart(volume_1x1().output, (), (0, 0), title="6×6 output after ReLU (36 positions)", size=200).to_dict()


def _one_by_one() -> None:
    v = volume_1x1()
    b = Bottleneck()
    with st.container(border=True):
        st.markdown("**1×1 convolution over 32 channels, and the bottleneck that saves computation**")
        st.caption("Network in Network: 'a 1×1 convolution will look at each of the 36 different positions (6×6), "
                   "and it will take the element-wise product between 32 numbers on the left and the 32 numbers in "
                   "the filter. Then, a ReLU non-linearity will be applied.' Channel 0 is the course's 6×6 matrix; "
                   "the document gives no values for the other 31 channels or the filter (seeded digits here).")
        nums, filt, dot, relu = v.position(0, 0)
        st.code("position (0, 0): " + " + ".join(f"{a:g}×{b:g}" for a, b in zip(nums, filt, strict=True))
                + f" = {dot:g}; ReLU → {relu:g}", language=None, wrap_lines=True)
        render_spec(_volume_spec())
        st.dataframe(pd.DataFrame({
            "computation": ["5×5 conv, 28×28×192 → 32", "1×1 conv 192 → 16", "5×5 conv 16 → 32", "bottleneck total"],
            "multiplies": [b.direct, b.reduce, b.conv, b.bottleneck],
            "document": ["120 Million", "", "", "12.4 Million"],
            "formula": ["(28·28·32)·(5·5·192)", "(28·28·16)·(1·1·192)", "(28·28·32)·(5·5·16)", "sum of the two"],
        }), hide_index=True, width="stretch")
        st.caption(f"32 filters of 1×1×192 on a real 28×28×192 tensor give {'×'.join(map(str, b.shrink_shape()))} "
                   "(channels × height × width): a 1×1 convolution shrinks the number of channels.")


def _design(d: Any, x: np.ndarray | None) -> None:
    import torch

    with st.container(border=True):
        st.markdown(f"**{md_escape(d.title)}**")
        st.caption(md_escape(d.source))
        real = d.real_shapes(None if x is None else torch.as_tensor(x))
        st.dataframe(pd.DataFrame({
            "layer": [lay.name for lay in d.layers],
            "formula": [lay.formula(sym) for lay, sym in zip(d.layers, d.symbols, strict=True)],
            "output (W×H×D)": ["×".join(map(str, lay.out)) for lay in d.layers],
            "document": ["×".join(map(str, v)) for v in d.document],
            "real torch layer": ["×".join(map(str, v)) for v in real],
        }), hide_index=True, width="stretch")
        if x is not None:
            st.caption("The real layers (untrained) ran on your input image: their output sizes are in the last column.")
        else:
            st.caption(f"The real layers were built on PyTorch's meta device for a {d.input[0]}×{d.input[1]}×"
                       f"{d.input[2]} input (sizes only, nothing computed).")
