"""The run every page opens on (issue 23, item 6): the best completed run by default (not the newest), a pinned
run or the best run of a pinned tag (the runs root's .pin.json, validated on read), set from the run picker and
`explorer runs pin`, shown by `runs list`; Compare runs never starts by pairing a good run with a stopped one;
a run without predictions is evaluated from the page."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from explorer import pin
from explorer.cli import main
from explorer.runs import delete_run, list_runs, open_run, tag_run
from tests.conftest import page_path
from tests.mixed_runs import make_mixed_runs


@pytest.fixture()
def mixed(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    runs = make_mixed_runs(root)
    monkeypatch.setenv("EXPLORER_RUNS", str(root))
    return root, runs


def test_default_is_the_best_completed_run_not_the_newest(mixed):
    root, runs = mixed
    infos = list_runs(root)
    assert infos[0].run_id == runs["sweep_2"].name  # the newest: a 23% sweep point
    choice = pin.default_run(infos, root)
    assert choice.run.run_id == runs["lenet5"].name and choice.reason.startswith("the best completed run (test 96")
    assert not choice.note and choice.pin is None
    assert pin.default_pair(infos, root) == [runs["lenet5"].name, runs["imported"].name]


def test_pin_a_run_or_a_tag_and_what_happens_when_it_cannot_be_followed(mixed):
    root, runs = mixed
    pin.set_pin(root, run=runs["quick"].name)
    stored = json.loads((root / ".pin.json").read_text())
    assert stored["run_id"] == runs["quick"].name and stored["tag"] is None
    assert pin.default_run(list_runs(root), root).run.run_id == runs["quick"].name
    assert {i.run_id for i in list_runs(root)} == {p.name for p in runs.values() if p.parent == root}  # not a run
    tag_run(runs["sweep_1"].name, add=["class-b"], root=root)
    tag_run(runs["failed"].name, add=["class-b"], root=root)
    pin.set_pin(root, tag="class-b")
    choice = pin.default_run(list_runs(root), root)
    assert choice.run.run_id == runs["sweep_1"].name and "tagged 'class-b'" in choice.reason  # the failed one has no weights
    pin.set_pin(root, run=runs["sweep_0"].name)
    delete_run(runs["sweep_0"].name, root, confirm=True)
    choice = pin.default_run(list_runs(root), root)
    assert choice.run.run_id == runs["lenet5"].name and "not in the runs folder any more" in choice.note
    with pytest.raises(ValueError, match="no run is tagged 'nobody'"):
        pin.set_pin(root, tag="nobody")
    with pytest.raises(FileNotFoundError):
        pin.set_pin(root, run="no-such-run")
    assert pin.clear_pin(root) and not pin.clear_pin(root) and pin.read_pin(root) is None


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"run_id": "a", "tag": "b"}', b'{"run_id": 5}',
                                  b'{"run_id": "../../etc"}', b'{"colour": "red"}', b'{"tag": "' + b"x" * 5000 + b'"}'])
def test_a_damaged_pin_file_is_a_clear_message_never_a_crash(mixed, body, capsys):
    root, runs = mixed
    (root / ".pin.json").write_bytes(body)
    with pytest.raises(pin.PinError, match=r"\.pin\.json: .*clear it"):
        pin.read_pin(root)
    choice = pin.default_run(list_runs(root), root)
    assert choice.run.run_id == runs["lenet5"].name and choice.note.startswith("The pin is ignored")
    assert main(["runs", "--runs", str(root), "list"]) == 0
    out = capsys.readouterr().out
    assert "note: The pin is ignored" in out and f"pages open on: {runs['lenet5'].name}" in out


def test_cli_pin(mixed, capsys):
    root, runs = mixed
    assert main(["runs", "--runs", str(root), "pin", runs["imported"].name]) == 0
    assert "every page opens on it" in capsys.readouterr().out
    assert main(["runs", "--runs", str(root), "list"]) == 0
    assert f"pages open on: {runs['imported'].name} (pinned)" in capsys.readouterr().out
    assert main(["runs", "--runs", str(root), "pin", "--tag", "class-a"]) == 0
    assert pin.read_pin(root) == pin.Pin(tag="class-a")
    assert main(["runs", "--runs", str(root), "pin", "--clear"]) == 0
    assert "pin cleared" in capsys.readouterr().out and pin.read_pin(root) is None
    for bad in (["pin"], ["pin", "--tag", "nobody"], ["pin", "nosuch"], ["pin", "--clear", "--tag", "x"]):
        assert main(["runs", "--runs", str(root), *bad]) == 2, bad
        err = capsys.readouterr().err.strip()
        assert err and "\n" not in err and "Traceback" not in err, err


@pytest.mark.parametrize("page,key", [("results", "results_run"), ("explain", "explain_run"),
                                      ("inside", "inside_run"), ("draw", "draw_run")])
def test_pages_open_on_the_best_run_then_on_the_pinned_one(mixed, page, key):
    root, runs = mixed
    at = AppTest.from_file(page_path(page), default_timeout=300).run()
    assert not at.exception, at.exception
    assert at.selectbox(key=key).value == runs["lenet5"].name  # not the newest (a 23% sweep run)
    pin.set_pin(root, run=runs["imported"].name)
    at = AppTest.from_file(page_path(page), default_timeout=300).run()
    assert at.selectbox(key=key).value == runs["imported"].name
    assert not at.exception, at.exception


def test_the_run_picker_pins_a_run_for_every_page(mixed):
    root, runs = mixed
    at = AppTest.from_file(page_path("results"), default_timeout=300).run()
    assert any("Pages open on" in c.value and "the best completed run" in c.value for c in at.caption)
    at.selectbox(key="results_run").set_value(runs["sweep_1"].name).run()  # (quick's default data: 31,200 images)
    at.button(key="results_run_pin_run").click().run()
    assert not at.exception, at.exception
    assert pin.read_pin(root) == pin.Pin(run_id=runs["sweep_1"].name)
    at.selectbox(key="results_run_pin_tag_name").set_value("class-a").run()
    at.button(key="results_run_pin_tag").click().run()
    assert pin.read_pin(root) == pin.Pin(tag="class-a")
    assert at.selectbox(key="results_run").value == runs["lenet5"].name  # the best run tagged class-a
    at.button(key="results_run_pin_clear").click().run()
    assert pin.read_pin(root) is None and not at.exception


def test_compare_runs_starts_with_two_finished_runs_and_evaluates_a_stopped_one(mixed):
    root, runs = mixed
    at = AppTest.from_file(page_path("compare_runs"), default_timeout=300).run()
    assert not at.exception, at.exception
    assert at.multiselect(key="cmp_runs").value == [runs["lenet5"].name, runs["imported"].name]
    at.multiselect(key="cmp_runs").set_value([runs["lenet5"].name, runs["stopped"].name]).run()
    button = at.button(key=f"evaluate-now-{runs['stopped'].name}")
    assert not any("python -m explorer evaluate" in i.value for i in at.info)  # no terminal needed
    button.click().run()
    assert not at.exception, at.exception
    assert open_run(runs["stopped"]).has_predictions()
    assert not [b for b in at.button if b.key == f"evaluate-now-{runs['stopped'].name}"]
    assert any("Where two runs disagree" in s.value for s in at.subheader)


def test_results_evaluates_a_stopped_run_and_says_a_failed_one_has_nothing(mixed):
    _, runs = mixed
    at = AppTest.from_file(page_path("results"), default_timeout=300).run()
    at.selectbox(key="results_run").set_value(runs["failed"].name).run()
    assert any("no saved weights" in i.value for i in at.info) and not at.exception
    at.selectbox(key="results_run").set_value(runs["stopped"].name).run()
    at.button(key=f"evaluate-now-{runs['stopped'].name}").click().run()
    assert not at.exception, at.exception
    assert open_run(runs["stopped"]).has_predictions() and at.tabs
