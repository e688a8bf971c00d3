"""Departures from the paper's recipe, generated from the profiles and the published settings."""

import pytest

from musiclib import published
from musiclib.book.departures import (
    COLUMNS,
    departures,
    departures_markdown,
    write_departures,
)
from musiclib.experiments.profiles import load_profile

ALWAYS = {"data", "layer selection", "Adam updates per batch", "initializers", "interval decoding"}


def departing(name):
    table = departures(load_profile(name))
    assert list(table.columns) == COLUMNS
    return set(table.loc[table["departs"], "setting"])


def test_study_keeps_the_papers_model_and_recipe_but_stops_early():
    assert departing("study") == ALWAYS | {"epochs", "early stopping"}


def test_paper_profile_departs_only_where_the_code_does():
    assert departing("paper") == ALWAYS


@pytest.mark.parametrize("name", ["smoke", "quick"])
def test_small_profiles_list_every_shrunk_setting(name):
    shrunk = departing(name)
    assert ALWAYS | {"units (= embedding size)", "epochs", "batch shape (rows x steps)"} <= shrunk
    # neither stops early; quick restarts a run stuck on the plateau from a new seed, smoke does not
    assert ("early stopping" in shrunk) == (name == "quick")


def test_values_come_from_the_profile_and_the_published_file(tmp_path):
    study = departures(load_profile("study")).set_index("setting")
    assert study.loc["Adam updates per batch", "paper"] == str(published.value("adam_updates_per_batch")) == "2"
    assert study.loc["epochs", "profile"] == "40 control / 40 interval / 2 db12 (caps)"
    stopping = study.loc["early stopping", "profile"]
    assert "3 validation checks" in stopping and "0.05 nats per note below the unigram model's" in stopping
    assert "after 10 control / 10 interval / 1 db12 epochs starts over from a new seed (at most once)" in stopping
    assert "DB12: 3 of the 12 transpositions" in stopping and "the paper scored no validation" in stopping
    assert "lstm: embedding uniform(-0.05, 0.05)" in study.loc["initializers", "profile"]
    assert "recurrent weights orthogonal" in study.loc["initializers", "profile"]
    quick = departures(load_profile("quick")).set_index("setting")
    assert quick.loc["early stopping", "profile"] == (
        "none (fixed epochs); a run still on the unigram plateau after 5 control / 5 interval / 1 db12 epochs "
        "starts over from a new seed (at most once)"
    )
    assert quick.loc["units (= embedding size)", "profile"] == "32"
    assert quick.loc["data", "profile"].startswith("600 songs")
    markdown = departures_markdown(load_profile("quick"), only_departures=True)
    assert "| **units (= embedding size)** | 128 | 32 |" in markdown
    assert "learning rate" in markdown and "gradient clipping" not in markdown
    path = write_departures(load_profile("smoke"), tmp_path / "executed")
    assert path.read_text().startswith("| Setting | Paper | Profile `smoke` |")
