"""The Compare architectures page (app_pages/compare_architectures.py): one cached row per architecture and
the measured-latency columns from cached profiles."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from explorer.inspect.profile import measured_latency


@st.cache_data(max_entries=128, show_spinner=False)
def cached_architecture_row(name: str, content: str = "") -> dict:
    """One comparison row, computed once per model (and per content of a design)."""
    from explorer.inspect.lineage import architecture_row

    return architecture_row(name)


def with_measured_latency(df: pd.DataFrame) -> pd.DataFrame:
    """Add 'measured ms (cpu)' / '(cuda)' columns from cached profiles (models never profiled stay empty)."""
    lat = measured_latency()
    out = df.copy()
    for device in sorted(set(lat["device"])):
        sub = lat[lat["device"] == device].set_index("model")
        col = f"measured ms ({device})"
        out[col] = out["model"].map(sub["measured ms"]) if "model" in out else np.nan
    if lat.empty:
        st.caption("Measured latency: profile a model (Inspect → Measured, or `python -m explorer profile NAME`) "
                   "to add a measured-latency column here.")
    return out
