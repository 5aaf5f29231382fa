"""Learn page: how each layer computes its numbers - follow one number of any layer back to the pixels,
on your own drawing and your own trained run; the network at a glance; a convolution and pooling
playground with the kernel sliding; the CNN course's worked examples."""

import streamlit as st

from explorer.learn import LearnError
from explorer.models import model_card
from explorer.runs import list_runs
from explorer.ui import learn as ui
from explorer.ui import learn_playground as pg
from explorer.untrusted import md_escape

st.title("Learn")
st.caption("How every number of a convolutional network comes about, step by step, on your own letter: pick a "
           "layer, click a unit, and follow it from the input patch through the kernel, the bias, BatchNorm, the "
           "activation and the shortcut to exactly the value the model computed.")

try:
    has_runs = bool(list_runs())
except OSError:
    has_runs = False
top = st.container(horizontal=True, gap="large")
with top.container(width=400):
    net = ui.pick_network(has_runs)
picked = None
with top.container(width=400):
    if net is not None:
        picked = ui.pick_input(net)
    if picked is not None:
        ui.render_input(*picked)

follow_tab, play_tab, course_tab = st.tabs(["Follow one number", "Convolution & pooling playground",
                                            "Course examples"])
with follow_tab:
    if net is None or picked is None:
        st.info("Choose a network and an input above to follow its numbers.")
    else:
        try:
            tr = ui.current_trace(net, picked[0])
        except LearnError as exc:
            st.error(md_escape(exc))
            tr = None
        if tr is not None:
            ui.render_follow_and_overview(net, tr, f"net.{model_card(net.model).first_conv}")
with play_tab:
    st.caption("A single-channel convolution you can change: the output, the size formula W_out = (W − F + 2P)/S + 1 "
               "with your numbers, the kernel sliding one position per step, then pooling.")
    pg.render_playground(None if picked is None else picked[0], ui.first_filters(net))
with course_tab:
    st.caption("The CNN course's worked examples, computed here; each shows the document's numbers beside ours.")
    pg.render_course_examples(None if picked is None else picked[0])
