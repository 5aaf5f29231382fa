"""The one readable run name and the one duration format."""

from __future__ import annotations

import math

from explorer.names import format_duration, run_title, short_date, unique_titles
from explorer.runs import open_run
from tests.run_fixtures import make_run


def test_format_duration():
    assert [format_duration(s) for s in (0, 45.4, 59.6, 60, 235, 3599, 3600, 3725)] == [
        "0s", "45s", "1m 00s", "1m 00s", "3m 55s", "59m 59s", "1h 00m", "1h 02m"]
    for bad in (None, -1, math.nan, math.inf, "abc", [1]):
        assert format_duration(bad) == "-"
    assert format_duration("240") == "4m 00s"


def test_short_date_from_created_or_id():
    assert short_date("2026-11-29 12:53:23") == "29 Nov 12:53"
    assert short_date("", "20260105-090501-small_cnn") == "5 Jan 09:05"
    assert short_date("yesterday", "quick") == ""
    assert short_date("2026-13-01 10:00:00") == ""


def test_run_title_prefers_the_users_name_and_never_shows_the_id_alone():
    named = make_run(name="my-ResNet")
    unnamed = make_run(model="small_cnn", name="")
    assert run_title(named.info()) == "my-ResNet" == run_title(named) == run_title(named.config)
    info = unnamed.info()
    assert info.name == info.run_id  # the store falls back to the id ...
    title = run_title(info)  # ... the title does not
    assert title == f"small_cnn - letters-builtin - {short_date(info.created)}"
    assert info.run_id not in title
    assert run_title(open_run(unnamed.path)) == title == run_title(unnamed.config)


def test_unique_titles_tell_equal_names_apart():
    a, b = make_run(name="same"), make_run(name="same", seed=1)
    c = make_run(name="other")
    titles = unique_titles([a.info(), b.info(), c.info()])
    assert titles[2] == "other"
    assert titles[0] != titles[1] and titles[0].startswith("same (") and titles[1].startswith("same (")
