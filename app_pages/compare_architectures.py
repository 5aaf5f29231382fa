"""Compare architectures: one table, and reference accuracy against compute and parameters."""

import pandas as pd
import streamlit as st

from explorer.charts.inspect import accuracy_vs_compute_chart
from explorer.inspect.lineage import CLASSIC_LINEAGE
from explorer.inspect.notes import FLOPS_NOTE, model_content
from explorer.models import list_cards
from explorer.ui.compare_architectures import cached_architecture_row, with_measured_latency
from explorer.ui.layout import render_wrapping_charts
from explorer.untrusted import csv_safe_frame

st.title("Compare architectures")
st.caption("Reference cost = the published network: its input size and its number of classes (ImageNet's 1,000; "
           "LeNet-5's 10 digits, hence its 60,850 parameters), beside its published ImageNet top-1 accuracy; then the "
           "cost of the same network adapted to 28×28 letters (26 classes).")

cards = list_cards()
titles = {c.name: c.title for c in cards}
chosen = st.multiselect("Architectures", [c.name for c in cards], default=CLASSIC_LINEAGE,
                        format_func=titles.get, key="compare_models", wrap=True)  # chips wrap, never clipped
if len(chosen) < 2:
    st.warning("Pick at least two architectures to compare.")
    st.stop()

progress = st.progress(0.0, text="Summarising…")
rows = []
for i, name in enumerate(chosen):
    rows.append(cached_architecture_row(name, model_content(name)))
    progress.progress((i + 1) / len(chosen), text=f"Summarised {titles[name]}")
progress.empty()
df = with_measured_latency(pd.DataFrame(rows))

st.dataframe(
    df.drop(columns=["params_m"]), hide_index=True, width="stretch",
    column_config={
        "params": st.column_config.NumberColumn("params", format="localized"),
        "gmacs": st.column_config.NumberColumn("GMACs", format="%.4g"),
        "top1": st.column_config.NumberColumn("top-1 %", format="%.1f"),
        "top5": st.column_config.NumberColumn("top-5 %", format="%.1f"),
        "letters params": st.column_config.NumberColumn(format="localized"),
        "letters MMACs": st.column_config.NumberColumn(format="%.1f"),
    },
)
missing = df[df["top1"].isna()]["title"].tolist()
render_wrapping_charts(accuracy_vs_compute_chart(df), key="arch_acc_vs_cost")
if missing:
    st.caption(f"Not plotted (no published ImageNet accuracy): {', '.join(missing)}.")
st.info(FLOPS_NOTE)
st.download_button("Download CSV", csv_safe_frame(df).to_csv(index=False).encode(), "architectures.csv", "text/csv")
