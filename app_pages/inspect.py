"""Inspect: every layer's output shape, parameters, MACs/FLOPs, memory and receptive field."""

import streamlit as st

from explorer.inspect.notes import FLOPS_NOTE
from explorer.ui.inspect import (
    input_picker,
    model_picker,
    render_arithmetic,
    render_card,
    render_charts,
    render_diagram,
    render_layers,
    render_measured,
    render_totals,
    summary_or_error,
)

st.title("Inspect an architecture")
card = model_picker()
letters, size, classes, batch = input_picker(card)

with st.expander("Model card", expanded=True):
    render_card(card)

summary = summary_or_error(card.name, letters, size, classes, batch)
if summary is not None:
    render_totals(summary)
    st.info(FLOPS_NOTE)
    layers_tab, charts_tab, diagram_tab, arith_tab, measured_tab = st.tabs(
        ["Layers", "Charts", "Diagram", "Conv arithmetic", "Measured"])
    with layers_tab:
        render_layers(summary)
    with charts_tab:
        render_charts(summary)
    with diagram_tab:
        render_diagram(summary)
    with arith_tab:
        render_arithmetic(summary)
    with measured_tab:
        render_measured(card.name, letters, size, classes)
