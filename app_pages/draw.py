"""Draw page: draw (or upload) a letter and watch saved models predict it after every stroke."""

import streamlit as st

from explorer.names import run_title
from explorer.predict import runs_for_prediction
from explorer.runs import open_run
from explorer.ui import draw as ui
from explorer.ui.examples import pick_example

st.title("✍️ Draw a letter")
st.caption("Draw with the mouse or a finger. After every stroke the drawing goes through the same "
           "preprocessing as the datasets (EMNIST's crop, centre, blur and 28×28 downsampling), then to the model.")

runs, bad = runs_for_prediction()
ui.render_unreadable(bad)
if not runs:
    ui.render_quick_training_offer()
    st.stop()

chosen = ui.pick_runs(runs)
main = chosen[0]

st.session_state.setdefault("draw_canvas_n", 0)
ui.restore_on_return()  # the drawing is still there after a visit to another page
row = st.container(horizontal=True, gap="large")  # the answer beside the canvas, or under it on a narrow window
left, right = row.container(width=ui.CANVAS_SIZE + 20), row.container(width="stretch")
with left:
    source = st.radio("Input", ["Draw", "Upload a photo", "Try an example"], horizontal=True, key="draw_source",
                      label_visibility="collapsed")
    image = None
    if source == "Draw":
        width = st.slider("Stroke width", 6, 40, 18, key="draw_stroke")
        image = ui.canvas(width, key=f"draw_canvas_{st.session_state['draw_canvas_n']}")
        st.button("Clear", key="draw_clear", icon=":material/delete:", on_click=ui.clear_canvas)
    elif source == "Try an example":
        example = pick_example("draw_example")
        image = ui.upload_image(example[0]) if example else None
    else:
        data = ui.upload()
        image = ui.upload_image(data) if data else None
        if data is None:
            st.info("Upload a photo of one handwritten letter: dark ink on light paper or light on dark both work.")

model = ui.cached_model(main)
with right:
    if model is None:
        st.stop()
    if image is None:
        if source == "Draw":
            st.info(ui.HINT)
        st.stop()
    classes = open_run(main.path).classes
    out = ui.to_prediction(model, image, classes)
    if out is None:
        st.session_state.pop("last_drawing", None)
        st.stop()
    x, pred = out
    st.session_state["last_drawing"] = x.numpy()  # float (1, 28, 28) for the Explain page
    a, b = st.columns([3, 2])
    with a:
        ui.render_prediction(pred, run_title(main))
        ui.render_onnx_answer(main.path, x, classes, pred.latency_ms)
    with b:
        ui.render_tensor(x)
        ui.render_gradcam(model, x, pred)
    if len(chosen) > 1:
        st.subheader("Which model reads your handwriting best?")
        ui.render_side_by_side(chosen, x)
