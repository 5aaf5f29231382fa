"""Compare runs page: saved runs side by side -- configs, metrics, curves, per-class F1, confusion, ROC, cost."""

import streamlit as st

from explorer.compare import build_comparison
from explorer.ui import compare_runs as ui
from explorer.ui import trust as trust_ui
from explorer.ui.compare_runs_table import render_many_runs
from explorer.ui.inside_views import render_compare_overlays

st.title("⚖️ Compare runs")
st.caption("Pick two or more saved runs. Settings that differ are highlighted, equal ones collapsed; "
           "per-class and confusion differences are against the first run picked.")

runs = ui.pick_runs()
if not runs:
    render_many_runs()  # every run: table, filters, sweeps, effects
    st.stop()

ui.render_evaluate_offer(runs)
comp = build_comparison(runs)
ui.render_export_buttons(comp)
ui.render_notes(comp.notes)
ui.render_tables(comp)
ui.render_section("curves", comp.notes, ui.render_curves, comp.runs)
ui.render_section("per_class", comp.notes, ui.render_per_class, comp)
ui.render_section("confusion", comp.notes, ui.render_confusion, comp)
ui.render_section("roc", comp.notes, ui.render_roc, comp.runs)
ui.render_section("cost", comp.notes, ui.render_cost, comp)
with st.expander("Robustness curves and embedding maps", expanded=False):
    render_compare_overlays([r.path for r in comp.runs], [r.title for r in comp.runs])

trust_ui.render_disagreement(comp.runs)

render_many_runs()
