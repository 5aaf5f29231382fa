"""Data page: choose a dataset, see its balance, samples, mean images and the exact tensors a model sees."""

import json

import streamlit as st
import torch

from explorer.charts.data import class_balance_chart, pixel_heatmap
from explorer.data import Augment, DataSpec, augment_batch, builtin, data_root, list_datasets, load_dataset
from explorer.data import view as dv
from explorer.data.confine import OutsideDataRootError, not_here_message, path_under_root
from explorer.ui import data as ui
from explorer.ui import trust as trust_ui
from explorer.ui.layout import render_chart
from explorer.untrusted import md_code, md_escape

st.title("Data")
infos = {i.name: i for i in list_datasets()}
name = st.selectbox(
    "Dataset", list(infos), key="data_name",
    format_func=lambda n: f"{infos[n].title} ({n})" + ("" if infos[n].available else " — not on this machine"),
)  # fmt: skip
info = infos[name]
st.caption(f"{info.description} Source: {info.source}.")

if not info.available:
    st.warning(f"**{info.title} is not on this machine.** {info.how_to_get}")
    if name.startswith("emnist"):
        path = st.text_input("Path to gzip.zip, or a folder with its .gz or idx files, inside the data folder "
                             f"{md_code(data_root().resolve())}", key="data_emnist_path")
        if st.button("Use these files", key="data_use_path", disabled=not path):
            try:
                inside = path_under_root(path, data_root())  # never a path outside the data folder
                with st.spinner("Checking and extracting EMNIST (md5, sizes, counts)..."):
                    load_dataset(name, "train", path=inside)
                st.rerun()
            except OutsideDataRootError as exc:
                st.error(str(exc))
            except (ValueError, FileNotFoundError, OSError) as exc:  # inside the data folder: say what is wrong
                st.error(f"{not_here_message(data_root())} ({md_escape(exc)})")
    if st.button(f"Try to download {info.title}", key="data_download"):
        try:
            with st.spinner("Downloading..."):
                load_dataset(name, "train", download=True)
            st.rerun()
        except (ValueError, FileNotFoundError, OSError) as exc:
            st.error(str(exc))
    st.info("Meanwhile, pick **Built-in letters** (offline, the default) or **scikit-learn digits** above.")
    st.stop()

c1, c2, c3, c4 = st.columns(4)
size, gen_seed = None, 0
if name == "letters-builtin":
    size = c1.number_input("Train images per class", 10, 5000, builtin.DEFAULT_SIZE, 100, key="data_size")
    gen_seed = c2.number_input("Generation seed", 0, 10**6, 0, key="data_gen_seed")
val_fraction = c3.slider("Validation fraction", 0.0, 0.5, 0.1, 0.05, key="data_val")
split_seed = c4.number_input("Split seed", 0, 10**6, 0, key="data_split_seed")
spec = DataSpec(name, size=int(size) if size else None, seed=int(split_seed), val_fraction=val_fraction,
                gen_seed=int(gen_seed))  # fmt: skip
splits = ui.splits_or_error(spec)
if splits is None:
    st.stop()
spec_json = json.dumps(spec.to_dict(), sort_keys=True)
rec = splits.record
m = st.columns(4)
for col, part in zip(m, ("train", "val", "test"), strict=False):
    col.metric(part, f"{rec['counts'][part]:,}")
m[3].metric("classes", len(splits.classes))
st.caption(f"Validation: stratified and seeded, carved from the dataset's train split; "
           f"indices hash `{rec['val_indices_sha256']}` (recorded with every run).")  # fmt: skip

tab_bal, tab_samples, tab_mean, tab_model, tab_issues = st.tabs(
    ["Class balance", "Samples", "Mean images", "What the model sees", "Label issues"])
with tab_bal:
    counts = dv.class_counts({p: getattr(splits, p).labels for p in ("train", "val", "test")}, splits.classes)
    render_chart(class_balance_chart(counts))
    table = counts.pivot(index="class", columns="split", values="count").reindex(splits.classes)
    st.dataframe(table[[c for c in ("train", "val", "test") if c in table]], key="data_counts")
with tab_samples:
    s1, s2 = st.columns(2)
    per_class = s1.slider("Samples per class", 4, 24, 12, key="data_per_class")
    sample_seed = s2.number_input("Sample seed", 0, 10**6, 0, key="data_sample_seed")
    grid = ui.sample_grid(spec_json, per_class, int(sample_seed))
    st.image(grid, caption=f"{per_class} random training images per class (rows: {' '.join(splits.classes)})")
with tab_mean:
    st.image(ui.mean_grid(spec_json), caption="Mean training image per class, in class order (brightest = 255)")
with tab_model:
    k1, k2, k3 = st.columns(3)
    cls = k1.selectbox("Class", splits.classes, key="data_class")
    members = (splits.train.labels == splits.classes.index(cls)).nonzero().flatten()
    pick = k2.number_input(f"Sample (of {len(members)})", 0, max(len(members) - 1, 0), 0, key="data_sample")
    aug_seed = k3.number_input("Augmentation seed", 0, 10**6, 0, key="data_aug_seed")
    with st.expander("Augmentation (batched on the training device)", expanded=True):
        a1, a2, a3, a4 = st.columns(4)
        aug = Augment(
            rotation_deg=a1.slider("Rotation ±°", 0.0, 45.0, 10.0, key="data_rot"),
            zoom=a2.slider("Zoom ±", 0.0, 0.5, 0.1, key="data_zoom"),
            shift=a3.slider("Shift ± (of size)", 0.0, 0.3, 0.1, key="data_shift"),
            elastic=a4.slider("Elastic (px)", 0.0, 4.0, 0.0, key="data_elastic"),
            hflip=0.5 if st.checkbox("Horizontal flip (as the EMNIST-letters report)", key="data_hflip") else 0.0,
        )  # fmt: skip
        st.caption("No horizontal flip by default: a mirrored letter is another letter or none "
                   "(b↔d, p↔q; mirrored S, Z, N, R are not letters), so it teaches wrong labels.")  # fmt: skip
    idx = int(members[int(pick)]) if len(members) else 0
    x0 = splits.train.images[idx].float().div(255).view(1, 1, 28, 28)
    gen = torch.Generator().manual_seed(int(aug_seed))
    x = augment_batch(x0, aug, gen)
    with st.container(horizontal=True, gap="medium"):  # side by side when they fit
        render_chart(pixel_heatmap(x0[0, 0].numpy(), f"Stored sample #{idx} (uint8/255)"))
        render_chart(pixel_heatmap(x[0, 0].numpy(), "After augmentation: x (1×28×28)"))
    with st.expander("Pixel values of x"):
        st.dataframe(dv.styled_pixels(x[0, 0].numpy()), key="data_pixels")
    names = dv.model_names()
    model = st.selectbox("Model", names, index=names.index("resnet18") if "resnet18" in names else 0,
                         key="data_model")  # fmt: skip
    try:
        net_in, how = dv.model_input(x, model)
    except Exception as exc:  # a registry error must not break the page
        st.error(f"Could not build the input of {model}: {exc}")
    else:
        c, h, w = net_in.shape[1:]
        st.markdown(f"**{model}** sees a **{c}×{h}×{w}** tensor: {how} "
                    f"min {net_in.min():.3f}, max {net_in.max():.3f}, mean {net_in.mean():.3f}.")  # fmt: skip
        chan = net_in[0, 0].numpy()
        if h * w <= 96 * 96:
            render_chart(pixel_heatmap(chan, f"{model} input, channel 0 of {c}", size=364, scheme="viridis"))
        else:
            st.image(dv.to_display(chan), caption=f"{model} input, channel 0 of {c} (full size, {h}×{w})")
        with st.expander(f"Pixel values of {model}'s input, channel 0"):
            st.dataframe(dv.styled_pixels(chan) if h * w <= 96 * 96 else chan, key="data_model_pixels")
with tab_issues:
    trust_ui.render_label_issues_tab(spec)
