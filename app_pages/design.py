"""Design: build your own network layer by layer, see every size as you go, save it as the model design:NAME."""

import json

import streamlit as st

from explorer.ui import design as ui

st.title("Design your own network")
st.caption("Add layers from the palette; every layer shows its output with the course's formula "
           "W_out = (W − F + 2P)/S + 1 filled in, its parameters and MACs (the inspector's counts) and the totals "
           "so far. The classifier at the end always has one output per class of the dataset. Save it, and it is "
           "a model like the others: Inspect, Train, Draw and every page list it.")

ui.render_start_row()
_, classes = ui.dataset_picker()
design, name_problem = ui.current_design()
table = ui.cached_table(json.dumps(design.to_dict(), sort_keys=True), classes)
ui.render_design_totals(table)
ui.render_layer_cards(table)
ui.render_palette()
ui.render_save(design, name_problem, table)
