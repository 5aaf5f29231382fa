"""AppTest of the Inspect page: defaults, presets, errors shown as st.error (never a traceback)."""

from streamlit.testing.v1 import AppTest

from tests.conftest import page_path


def page():
    at = AppTest.from_file(page_path("inspect"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def metric(at, label):
    return next(m.value for m in at.metric if m.label == label)


def test_default_resnet18_totals_and_table():
    at = page()
    assert at.selectbox(key="model").value == "resnet18"
    assert metric(at, "Parameters") == "11,689,512"
    assert metric(at, "MACs") == "1.81G"
    assert metric(at, "FLOPs") == "3.63G"
    table = at.dataframe[0].value
    assert table["Params"].sum() == 11_689_512
    assert "MACs" in at.info[0].value or any("MACs vs FLOPs" in i.value for i in at.info)


def test_letters_preset_and_depth_and_filter():
    at = page()
    at.radio(key="input_preset").set_value("Letters: 1×28×28, 26 classes").run()
    assert not at.exception
    assert metric(at, "Parameters") == "11,181,018"
    at.text_input(key="layer_filter").set_value("fc").run()
    table = at.dataframe[0].value
    assert list(table["Type"]) == ["Linear"] and table["Params"].iloc[0] == 512 * 26 + 26


def test_model_switch_and_seed_numbers():
    at = page()
    at.selectbox(key="model").set_value("vgg16").run()
    assert metric(at, "Parameters") == "138,357,544"
    at.selectbox(key="model").set_value("lenet_keras").run()
    at.radio(key="input_preset").set_value("Custom C×H×W").run()
    at.number_input(key="in_classes").set_value(10).run()
    assert metric(at, "Parameters") == "44,426"


def test_bad_custom_inputs_show_clear_errors():
    at = page()
    at.selectbox(key="model").set_value("alexnet").run()
    at.radio(key="input_preset").set_value("Custom C×H×W").run()
    at.number_input(key="in_h").set_value(32).run()
    at.number_input(key="in_w").set_value(32).run()
    assert not at.exception
    assert at.error and "features.12 (MaxPool2d)" in at.error[0].value and "too small" in at.error[0].value
    at.number_input(key="in_h").set_value(0).run()
    assert at.error and "must be positive" in at.error[0].value
    at.number_input(key="in_h").set_value(224).run()
    at.number_input(key="in_w").set_value(224).run()
    at.number_input(key="in_classes").set_value(0).run()
    assert at.error and "num_classes" in at.error[0].value
    assert not at.exception


def test_conv_arithmetic_on_googlenet():
    at = page()
    at.selectbox(key="model").set_value("googlenet").run()
    assert not at.exception
    frames = [d.value for d in at.dataframe]
    bottleneck = next(f for f in frames if "with bottleneck (M mult.)" in f.columns)
    row = bottleneck[bottleneck["block"] == "inception3a.branch3"].iloc[0]
    assert row["direct (M mult.)"] == 120.4 and row["with bottleneck (M mult.)"] == 12.4
    assert any("matches" in c.value for c in at.code)


def test_receptive_field_note_full_names_and_table_height():
    import json

    at = page()
    at.radio(key="input_preset").set_value("Letters: 1×28×28, 26 classes").run()
    assert not at.exception
    notes = [i.value for i in at.info if "receptive field" in i.value]
    assert len(notes) == 1 and notes[0].startswith("From **net.layer"), notes
    assert "is larger than the 28-pixel input: each output there sees the whole image" in notes[0]
    table = at.dataframe[0]
    names = [n.strip() for n in table.value["Layer"]]
    assert "net.layer4.1.conv2" in names
    columns = json.loads(table.proto.columns)
    assert columns["Layer"]["pinned"] is True
    assert columns["Layer"]["width"] >= 7 * max(len(n) for n in table.value["Layer"])  # wide enough: never cut
    assert "above 28 it covers the whole input" in columns["Receptive field"]["help"]
    assert at.select_slider(key="layer_table_rows").value == 15
    at.select_slider(key="layer_table_rows").set_value("all").run()
    assert not at.exception and len(at.dataframe[0].value) == len(names)
