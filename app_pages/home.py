"""Home: what the app is for, the newcomer's path (train the quick model, draw, see why) and the app's state."""

import streamlit as st

from explorer.ui import home as ui

st.title("CNN Explorer")
st.markdown("Learn how convolutional networks work by training one on handwritten letters, drawing letters "
            "for it to read, and seeing why it answers as it does.  \n"
            "Then open up the classic architectures (LeNet-5 to EfficientNet) layer by layer and compare "
            "what your own runs learned.")

runs = ui.saved_runs()
ui.render_state(runs)
slot = ui.path_steps(runs)
ui.render_explore_more()
ui.render_quick_step(slot, runs)  # last: it may time a few training steps first
