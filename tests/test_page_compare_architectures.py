"""AppTest of the Compare-architectures page."""

from streamlit.testing.v1 import AppTest

from tests.conftest import page_path


def test_default_lineage_table_and_chart():
    at = AppTest.from_file(page_path("compare_architectures"), default_timeout=180)
    at.run()
    assert not at.exception
    df = at.dataframe[0].value
    assert "resnet18" in set(df["model"]) and "lenet5" in set(df["model"])
    r18 = df[df["model"] == "resnet18"].iloc[0]
    assert r18["params"] == 11_689_512 and round(r18["gmacs"], 3) == 1.814 and r18["top1"] == 69.758
    assert r18["letters params"] == 11_181_018
    assert any("no published ImageNet accuracy" in c.value for c in at.caption)


def test_fewer_than_two_models_warns():
    at = AppTest.from_file(page_path("compare_architectures"), default_timeout=180)
    at.run()
    at.multiselect(key="compare_models").set_value(["resnet18"]).run()
    assert not at.exception
    assert at.warning and "at least two" in at.warning[0].value
