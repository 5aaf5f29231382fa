"""Results page: one run's test metrics, confusion matrix, confused pairs, ROC/PR, per-class report,
training curves, calibration, mistakes, and the seed report's result table rebuilt from your runs."""

import streamlit as st

from explorer.charts import evaluate as charts
from explorer.charts.curves import history_frame
from explorer.evaluate import worst_classes
from explorer.runs import list_runs
from explorer.ui import inside_views
from explorer.ui import results as ui
from explorer.ui.curves import render_training_curves
from explorer.ui.layout import render_chart
from explorer.ui.run_picker import pick_run, render_run_caption
from explorer.ui.run_state import test_set
from explorer.untrusted import md_escape

st.title("Results")
run = pick_run("results_run")
if run is None:
    st.stop()
render_run_caption(run)
history = run.history()
ev = ui.evaluation_or_offer(run)
if ev is None:
    if history:
        st.subheader("Training curves so far")
        render_training_curves(history_frame(history), "results_curves_partial")
    st.stop()

names = ev.report.classes
preds = run.predictions()
ui.render_summary_metrics(ev, run.metrics())
ui.render_estimate_caption(run)  # the estimate shown before the run against its real time
ui.render_export(run)

tabs = st.tabs(["Confusion matrix", "Most confused pairs", "ROC / PR", "Per-class report", "Training curves",
                "Calibration", "Mistakes", "Published results", "Confusion over epochs", "Robustness"])
with tabs[0]:
    norm = st.radio("Show", ["counts", "row-normalised"], horizontal=True, key="results_cm_norm")
    cell = ui.confusion_cell_picker(ev, "results_cm", "results_cell")
    row = st.container(horizontal=True, gap="medium")  # the examples beside the matrix, or under it when narrow
    left, right = row.container(width=640), row.container(width="stretch")
    with left:
        render_chart(charts.confusion_heatmap(ev.confusion, normalized=norm == "row-normalised", size=520)
                   .properties(width="container"),
                   on_select="rerun", selection_mode=charts.CONFUSION_SELECTION, key="results_cm")
        st.caption("Rows: true class; columns: predicted class. Click a cell to see its misclassified images.")
    with right:
        data = test_set(run)
        if data is not None:
            ui.render_cell_examples(ev, preds.y_true, preds.y_prob, data[0], *cell, top=16)

with tabs[1]:
    if ev.pairs.empty:
        st.success("No class was confused with another: every test image is classified correctly.")
    else:
        st.caption("Unordered pairs with the most mix-ups in either direction (the EMNIST-letters report names "
                   "G↔Q and I↔L). Share: of both classes' test images, the part that went to the other class.")
        st.dataframe(charts.pairs_table(ev.pairs), hide_index=True, key="results_pairs")
        pair = st.selectbox("Examples of pair", list(ev.pairs["pair"]), key="results_pair")
        row = ev.pairs[ev.pairs["pair"] == pair].iloc[0]
        data = test_set(run)
        if data is not None:
            for t, p in ((row["a_index"], row["b_index"]), (row["b_index"], row["a_index"])):
                ui.render_cell_examples(ev, preds.y_true, preds.y_prob, data[0], int(t), int(p), top=8)

with tabs[2]:
    worst = worst_classes(ev.report.per_class, 2)
    picked = st.multiselect("Classes (micro and macro averages always shown)", names, default=worst,
                            key="results_curve_classes", wrap=True)
    with st.container(horizontal=True, gap="medium"):  # side by side when they fit, one under the other when not
        render_chart(charts.roc_chart(ev.roc, picked, width=340, height=300), key="results_roc")
        render_chart(charts.pr_chart(ev.pr, picked, width=340, height=300), key="results_pr")
    for note in ev.roc.notes + ev.pr.notes:
        st.caption(md_escape(note))
    st.dataframe(charts.curve_areas(ev), hide_index=True, key="results_auc",
                 column_config={c: st.column_config.NumberColumn(format="%.4f")
                                for c in ("ROC AUC", "average precision")})

with tabs[3]:
    metric = st.radio("Bars", ["f1", "precision", "recall"], horizontal=True, key="results_bar_metric")
    render_chart(charts.per_class_chart(ev.report.per_class, metric=metric, worst=5, width="container"),
               key="results_per_class_chart")
    st.caption("Click a column header to sort. The 5 classes with the lowest F1 are shaded red.")
    st.dataframe(charts.per_class_table(ev.report.per_class, worst=5), hide_index=True, key="results_per_class",
                 height=35 * (len(names) + 1) + 3)

with tabs[4]:
    if history:
        render_training_curves(history_frame(history), "results_curves")
    else:
        st.info("This run has no training history (history.jsonl is empty or missing).")

with tabs[5]:
    cal = ev.calibration
    c1, c2 = st.columns([2, 1])
    render_chart(charts.calibration_chart(cal), key="results_calibration", where=c1)
    c2.metric("Expected calibration error (ECE)", f"{cal.ece:.4f}")
    c2.metric("Maximum calibration error (MCE)", f"{cal.mce:.4f}")
    c2.caption(f"ECE = Σ_b |B_b|/N · |accuracy(B_b) − confidence(B_b)| over {cal.n_bins} equal-width bins of "
               "the top probability. Bars below the diagonal: over-confident; above: under-confident.")

with tabs[6]:
    data = test_set(run)
    if data is not None:
        ui.render_mistakes_gallery(names, preds.y_true, preds.y_prob, data[0], top=48)

with tabs[7]:
    average = st.radio("Precision / recall / F1 average", ["macro", "weighted"], horizontal=True,
                       key="results_seed_average")
    table = ui.seed_table_from_runs(list_runs(), average=average)
    ui.render_published_results(table)

with tabs[8]:
    inside_views.render_epochs_tab(run)

with tabs[9]:
    inside_views.render_robustness_tab(run)
