"""Explain page: why one run's model predicts what it does for one image - Grad-CAM (and "why G and
not Q?"), Guided Grad-CAM, saliency, Integrated Gradients, occlusion, feature maps and filters."""

import streamlit as st

from explorer.explain import METHODS, ExplainError, conv_layers, default_target_layer, top_k
from explorer.ui import explain as ui
from explorer.ui import trust as trust_ui
from explorer.ui.layout import tiles
from explorer.ui.run_picker import pick_run, render_run_caption
from explorer.untrusted import md_escape

st.title("Explain")
run = pick_run("explain_run")
if run is None:
    st.stop()
render_run_caption(run)
classes = run.classes
model, problem = ui.model_or_error(run)
if problem:
    st.error(md_escape(problem))

picked = ui.pick_input(run, classes)
if picked is None:
    st.stop()
x, described = picked
if model is None:
    ui.render_image(x, described, scale=4)
    st.info("The explanations need the run's weights; pick another run or retrain this one.")
    st.stop()
if not classes:
    classes = [str(i) for i in range(getattr(model, "num_classes", 26))]
stamp = ui.weights_stamp(run)
ranked = top_k(model, x, k=5, classes=classes)
predicted = ranked[0][0]

row = st.container(horizontal=True, gap="medium")  # image, answer, top-5: wrapping on a narrow window
left, mid, right = row.container(width=180), row.container(width=170), row.container(width=340)
with left:
    ui.render_image(x, f"{described}, as the model sees it (28×28)")
with mid:
    st.metric("Predicted", md_escape(classes[predicted]))
    st.caption(f"with probability {ranked[0][2]:.2%}")
with right:
    st.dataframe(ui.top_k_frame(ranked), hide_index=True, key="explain_topk",
                 column_config={"probability": st.column_config.ProgressColumn(format="%.4f", min_value=0,
                                                                              max_value=1)})

st.subheader("Grad-CAM")
layers = conv_layers(model)
names = [i.name for i in layers]
shapes = {i.name: "×".join(map(str, i.out_shape)) + ("" if i.spatial else ", no spatial extent") for i in layers}
try:
    default = default_target_layer(model, x)
except ExplainError as exc:
    st.warning(md_escape(exc))
    default = names[-1] if names else None
if not names:
    st.warning("This model has no conv layer: Grad-CAM and feature maps need one.")
    st.stop()
c1, c2, c3 = st.columns(3)
layer = c1.selectbox("Target layer (default: the last conv layer with spatial output)", names,
                     index=names.index(default), key=f"explain_layer_{run.run_id}", format_func=lambda n: f"{n} ({shapes[n]})")
ui.follow_prediction("explain_target", predicted, len(classes), run.run_id)
chosen = c2.selectbox("Explain class", range(len(classes)), key="explain_target",
                      format_func=lambda t: f"{classes[t]} (predicted)" if t == predicted else classes[t])
contrast = ui.contrast_class(c3, "explain_contrast", classes)
if contrast == chosen:
    st.info("The contrast class is the explained class: choose another one to ask “why X and not Y?”.")
    contrast = None
spatial = [i.name for i in layers if i.spatial]
if layer in spatial:
    cols = tiles(3, 290)  # three overlays in a row at 1400 px, one per row on a narrow window
    with cols[0]:
        ui.render_explanation(run, stamp, x, "gradcam", predicted, layer, None, classes,
                             title="Grad-CAM, predicted class")
    with cols[1]:
        ui.render_explanation(run, stamp, x, "gradcam", chosen, layer, contrast, classes,
                             title="Grad-CAM, chosen class")
    with cols[2]:
        ui.render_explanation(run, stamp, x, "guided_gradcam", chosen, layer, contrast, classes)
else:
    st.warning(f"Layer {md_escape(layer)} outputs {shapes[layer]}: Grad-CAM has nothing to localise there. Choose a layer "
               f"with spatial output, e.g. {', '.join(spatial[-3:]) or '(none in this model)'}.")
st.caption("Grad-CAM (captum LayerGradCam): the layer's channels weighted by their mean gradient, ReLU, "
           "upsampled to 28×28 and overlaid (red = most evidence). Guided Grad-CAM multiplies it with "
           "guided backpropagation for pixel-level detail.")

st.subheader("Compare attribution methods")
st.caption(f"All for class {md_escape(classes[chosen])}" + (f" against {md_escape(classes[contrast])}" if contrast is not None else "")
           + ": saliency = |∂logit/∂pixel|; Integrated Gradients from a black image (32 steps); occlusion = drop "
           "of the logit when a 4×4 patch is blacked out.")
methods = [m for m in METHODS if layer in spatial or not METHODS[m].uses_layer]
ui.render_methods(run, stamp, x, methods, target=chosen, layer=layer, contrast=contrast, classes=classes)

trust_ui.render_sanity(model, x, methods, chosen, key=f"explain_sanity_{run.run_id}")

st.subheader("Feature maps and filters")
f1, f2 = st.columns([3, 2])
with f1:
    fm_layer = st.selectbox("Layer", names, key=f"explain_fm_layer_{run.run_id}", format_func=lambda n: f"{n} ({shapes[n]})")
    ui.render_feature_maps(model, x, fm_layer)
with f2:
    st.markdown("**Learned filters of the first conv layer**")
    ui.render_first_filters(model)
