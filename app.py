"""CNN Explorer: `streamlit run app.py`. Only the server's guard, page setup and navigation live here.

`streamlit run app.py` first imports this file as an ASGI app (it finds `app = st.App(...)`): the server, whose
HostCheck (explorer.ui.server) refuses requests for any Host but the address it was started for. The same file is
then the script every session runs (with a script-run context): page setup and navigation.
"""

from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

ROOT = Path(__file__).parent

if get_script_run_ctx(suppress_warning=True) is None:  # imported by the server (uvicorn), not run by a session
    from explorer.ui.server import host_middleware

    app = st.App(__file__, middleware=[host_middleware()])
else:
    from explorer.ui import navigation

    st.set_page_config(page_title="CNN Explorer", page_icon=":material/neurology:", layout="wide")
    navigation.install()  # a page-link click is never lost to a late request from the page being left

    PAGES = {
        "Start": [("app_pages/home.py", "Home", ":material/home:")],
        "Architectures": [
            ("app_pages/inspect.py", "Inspect", ":material/search:"),
            ("app_pages/learn.py", "Learn", ":material/school:"),
            ("app_pages/design.py", "Design", ":material/construction:"),
            ("app_pages/compare_architectures.py", "Compare architectures", ":material/scatter_plot:"),
        ],
        "Data and training": [
            ("app_pages/data.py", "Data", ":material/text_fields:"),
            ("app_pages/train.py", "Train", ":material/model_training:"),
        ],
        "Results": [
            ("app_pages/results.py", "Results", ":material/monitoring:"),
            ("app_pages/explain.py", "Explain", ":material/local_fire_department:"),
            ("app_pages/inside.py", "Look inside", ":material/visibility:"),
            ("app_pages/draw.py", "Draw", ":material/draw:"),
            ("app_pages/compare_runs.py", "Compare runs", ":material/compare:"),
        ],
    }

    st.navigation({
        section: [st.Page(str(ROOT / path), title=title, icon=icon, default=path == "app_pages/home.py")
                  for path, title, icon in pages]
        for section, pages in PAGES.items()
    }).run()
