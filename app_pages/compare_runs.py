"""Compare runs page: saved runs side by side -- configs, metrics, curves, per-class F1, confusion, ROC, cost."""

import streamlit as st

from explorer.compare import build_comparison
from explorer.ui import compare as ui
from explorer.ui import trust as trust_ui
from explorer.ui.inside import compare_overlays
from explorer.ui.runs_table import many_runs_panel

st.title("⚖️ Compare runs")
st.caption("Pick two or more saved runs. Settings that differ are highlighted, equal ones collapsed; "
           "per-class and confusion differences are against the first run picked.")

runs = ui.pick_runs()
if not runs:
    many_runs_panel()  # every run: table, filters, sweeps, effects
    st.stop()

ui.offer_evaluation(runs)
comp = build_comparison(runs)
ui.export_buttons(comp)
ui.show_notes(comp.notes)
ui.show_tables(comp)
ui.section("curves", comp.notes, ui.show_curves, comp.runs)
ui.section("per_class", comp.notes, ui.show_per_class, comp)
ui.section("confusion", comp.notes, ui.show_confusion, comp)
ui.section("roc", comp.notes, ui.show_roc, comp.runs)
ui.section("cost", comp.notes, ui.show_cost, comp)
with st.expander("Robustness curves and embedding maps", expanded=False):
    compare_overlays([r.path for r in comp.runs], [r.title for r in comp.runs])

trust_ui.disagreement_section(comp.runs)

many_runs_panel()
