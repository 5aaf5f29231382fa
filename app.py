"""CNN Explorer: `streamlit run app.py`. Only page setup and navigation live here."""

from pathlib import Path

import streamlit as st

st.set_page_config(page_title="CNN Explorer", page_icon="🧠", layout="wide")

PAGES = {
    "Architectures": [
        ("pages/inspect.py", "Inspect", "🔍"),
        ("pages/compare_architectures.py", "Compare architectures", "📊"),
    ],
    "Data and training": [
        ("pages/data.py", "Data", "🔤"),
        ("pages/train.py", "Train", "🏋️"),
    ],
    "Results": [
        ("pages/results.py", "Results", "📈"),
        ("pages/explain.py", "Explain", "🔥"),
        ("pages/draw.py", "Draw", "✏️"),
        ("pages/compare_runs.py", "Compare runs", "⚖️"),
    ],
}

ROOT = Path(__file__).parent
nav = {
    section: [st.Page(str(ROOT / path), title=title, icon=icon) for path, title, icon in pages if (ROOT / path).exists()]
    for section, pages in PAGES.items()
}
st.navigation({k: v for k, v in nav.items() if v}).run()
