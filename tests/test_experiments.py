"""Profiles, the grid, layer selection, generation and the checkpoint study, on tiny real runs."""

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from musiclib import experiments, published
from musiclib.experiments import GridPoint, ProfileError, load_profile

TINY_PROFILE = """
description = "test: two tiny control models per cell"

[data]
source = "essen"
max_songs = 40
min_notes = 12

[grid]
variants = ["control"]
cells = ["lstm", "ugrnn"]
layers = [1, 2]
workers = 2

[train]
rnn_size = 8
batch_size = 4
seq_length = 10
learning_rate = 0.01
decay_rate = 0.97
grad_clip = 5.0
save_every = 1000
seed = 0
num_epochs = { control = 1 }

[generation]
n_songs = 6
n_notes = 10
songs_per_checkpoint = 4

[cross_entropy]
variant = "control"
cell = "lstm"
num_layers = 1
batch_size = 4
num_epochs = 1
save_every = 10
"""


def write_profile(tmp_path, text, name="tiny"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", experiments.PROFILES)
def test_bundled_profiles_load(name):
    profile = load_profile(name)
    assert profile.name == name
    assert profile.description
    assert len(experiments.grid_points(profile)) == (
        len(profile.grid.variants) * len(profile.grid.cells) * len(profile.grid.layers)
    )


def test_paper_profile_is_the_papers_recipe():
    from musiclib.train import PAPER_EPOCHS, TrainConfig

    profile = load_profile("paper")
    assert len(experiments.grid_points(profile)) == published.value("experiments") == 45
    assert profile.train.num_epochs == PAPER_EPOCHS
    assert profile.train.rnn_size == published.value("embedding_size")
    assert profile.generation.n_songs == published.value("songs_per_model")
    assert profile.generation.n_notes == published.value("generated_notes")
    config = experiments.train_config(profile, GridPoint("db12", "nas", 5))
    defaults = TrainConfig()
    for setting in ("rnn_size", "batch_size", "seq_length", "learning_rate", "decay_rate", "grad_clip", "save_every"):
        assert getattr(config, setting) == getattr(defaults, setting), setting
    assert (config.variant, config.model, config.num_layers, config.num_epochs) == ("db12", "nas", 5, 50)


def test_quick_profile_runs_the_full_design():
    profile = load_profile("quick")
    assert set(profile.grid.variants) == {"control", "interval", "db12"}
    assert set(profile.grid.cells) == {"lstm", "nas", "ugrnn"}
    assert profile.grid.layers == (1, 2, 3, 4, 5)


def test_unknown_profile_and_bad_settings_are_named(tmp_path):
    with pytest.raises(ProfileError, match="unknown profile 'huge'"):
        load_profile("huge")
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile(tmp_path / "missing.toml")
    bad_key = write_profile(tmp_path, TINY_PROFILE.replace("rnn_size = 8", "rnn_sise = 8"), "bad_key")
    with pytest.raises(ProfileError, match=r"bad_key.toml, section \[train\]: unknown setting\(s\) \['rnn_sise'\]"):
        load_profile(bad_key)
    bad_type = write_profile(tmp_path, TINY_PROFILE.replace("batch_size = 4\nseq", 'batch_size = "4"\nseq'), "bad_type")
    with pytest.raises(ProfileError, match="batch_size = '4' is not a valid"):
        load_profile(bad_type)
    bad_cell = write_profile(tmp_path, TINY_PROFILE.replace('"ugrnn"]', '"transformer"]'), "bad_cell")
    with pytest.raises(ProfileError, match="grid.cells must be each one of"):
        load_profile(bad_cell)
    no_epochs = write_profile(tmp_path, TINY_PROFILE.replace('variants = ["control"]', 'variants = ["control", "db12"]'), "no_epochs")
    with pytest.raises(ProfileError, match="train.num_epochs"):
        load_profile(no_epochs)
    missing = write_profile(tmp_path, TINY_PROFILE.replace("seed = 0\n", ""), "missing")
    with pytest.raises(ProfileError, match=r"missing setting\(s\) \['seed'\]"):
        load_profile(missing)


def test_data_source_override_gets_its_own_run_folder(tmp_path):
    profile = load_profile("smoke", data_source=str(tmp_path))
    assert profile.data.source == str(tmp_path)
    assert profile.name.startswith(f"smoke-{tmp_path.name}-")
    assert load_profile("smoke", data_source="essen").name == "smoke"
    point = GridPoint("interval", "nas", 3)
    assert experiments.run_dir("runs", load_profile("smoke"), point).as_posix() == "runs/smoke/interval/nas-3"


def test_randomness_measures_by_hand():
    assert experiments.pitch_entropy([60, 60, 60]) == 0.0
    assert experiments.pitch_entropy([60, 62, 60, 62]) == pytest.approx(math.log(2))
    assert experiments.pitch_range([60, 72, 55]) == 17


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny profile trained once: (profile, runs_dir, data, grid result)."""
    root = tmp_path_factory.mktemp("experiments")
    profile = load_profile(write_profile(root, TINY_PROFILE))
    data = experiments.load_data(profile)
    result = experiments.run_grid(profile, root / "runs", data=data)
    return profile, root / "runs", data, result


@pytest.mark.slow
def test_grid_trains_every_point_and_selects_by_validation_loss(tiny):
    profile, runs_dir, data, result = tiny
    assert not result.failed
    assert list(result.runs) == experiments.grid_points(profile)  # trained by 2 local processes
    for point in result.runs:
        assert (experiments.run_dir(runs_dir, profile, point) / "config.json").is_file()
    curves = experiments.learning_curves(result)
    assert len(curves) == 4 * 1 * 2  # runs x epochs x (train, validation)
    assert (curves["loss"] > 0).all()
    steps = experiments.step_curves(result)
    assert len(steps) == sum(len(run.history["steps"]) for run in result.runs.values())
    assert steps.groupby(["cell", "num_layers"])["epoch"].max().tolist() == pytest.approx([1.0] * 4)
    first_run = next(iter(result.runs.values()))
    losses_of_first = [entry["loss"] for entry in first_run.history["steps"]]
    window = max(1, round(len(losses_of_first) / 10))
    assert steps["loss"].iloc[window - 1] == pytest.approx(np.mean(losses_of_first[:window]))
    losses = experiments.final_losses(result)
    selection = experiments.select_layers(result)
    assert list(zip(selection["variant"], selection["cell"])) == [("control", "lstm"), ("control", "ugrnn")]
    for row in selection.itertuples():
        candidates = losses[(losses["cell"] == row.cell)]
        assert row.val_loss == candidates["best_val_loss"].min()  # the best weights' validation loss decides
        assert row.num_layers == candidates.loc[candidates["best_val_loss"].idxmin(), "num_layers"]
    assert selection["paper_num_layers"].tolist() == [3, 3]
    comparison = experiments.baseline_comparison(data, selection)
    assert (comparison["bigram"] < comparison["unigram"]).all()
    assert comparison["beats_bigram"].tolist() == (comparison["val_loss"] < comparison["bigram"]).tolist()


@pytest.mark.slow
def test_rerun_reuses_finished_runs_and_a_failure_keeps_the_others(tiny):
    profile, runs_dir, data, result = tiny
    broken = GridPoint("control", "lstm", 3)
    blocked = experiments.run_dir(runs_dir, profile, broken)
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("a file where the run directory should be")
    again = experiments.run_grid(
        profile, runs_dir, data=data, points=[*result.runs, broken], executor=ThreadPoolExecutor(1)
    )
    assert list(again.failed) == [broken]
    assert "lstm-3" in again.failed[broken]
    for point, run in result.runs.items():
        assert again.runs[point].history == run.history  # loaded, not retrained


@pytest.mark.slow
def test_generation_tables_for_selected_models(tiny):
    profile, runs_dir, data, result = tiny
    runs = experiments.selected_runs(result, experiments.select_layers(result))
    songs = experiments.generate_for_selected(profile, runs, seed=0)
    assert set(songs) == {("control", "lstm"), ("control", "ugrnn")}
    for melodies in songs.values():
        assert len(melodies) == 6
        assert all(len(song) == 4 + 10 and song[:4] == [60, 62, 64, 62] for song in melodies)
    assert experiments.generate_for_selected(profile, runs, seed=0) == songs
    per_song = experiments.song_metrics(songs)
    assert len(per_song) == 12
    summary = experiments.metrics_summary(per_song)
    lstm_cmm = per_song[per_song["cell"] == "lstm"]["CMM"]
    row = summary[(summary["metric"] == "CMM") & (summary["cell"] == "lstm")].iloc[0]
    assert row["mean"] == pytest.approx(lstm_cmm.mean()) and row["std"] == pytest.approx(lstm_cmm.std(ddof=1))
    representative = experiments.most_representative_songs(per_song, songs)
    assert len(representative) == 2
    first = representative.iloc[0]
    assert first["pitches"] == songs[(first["variant"], first["cell"])][first["song"]]
    comparison = experiments.compare_models_to_dataset(per_song, experiments.dataset_metrics(data))
    assert len(comparison) == 2 * 3
    assert (comparison["ci_low"] <= comparison["difference"]).all()


@pytest.mark.slow
def test_checkpoint_study(tiny):
    profile, runs_dir, data, _ = tiny
    run = experiments.run_cross_entropy_study(profile, runs_dir, data=data)
    assert run.config.save_every == 10
    table, songs = experiments.checkpoint_study(run, profile, seed=0)
    assert len(table) >= 2
    assert table["step"].is_monotonic_increasing
    assert set(songs) == set(table["step"])
    assert all(len(batch) == 4 for batch in songs.values())
    correlations = experiments.rank_correlations(table)
    assert correlations["measure"].tolist() == list(experiments.CHECKPOINT_MEASURES)
    assert correlations["spearman_rho"].dropna().between(-1, 1).all()


@pytest.mark.slow
def test_grid_command_reuses_the_runs_and_prints_the_selection(tiny, capsys):
    from musiclib.cli import main

    profile, runs_dir, _, result = tiny
    profile_file = runs_dir.parent / "tiny.toml"
    assert main(["grid", "--profile", str(profile_file), "--runs_dir", str(runs_dir)]) == 0
    printed = capsys.readouterr().out
    assert "paper_num_layers" in printed and "val_loss" in printed
    assert printed.count("control") == len(result.runs) + 2  # one line per run, one per selected pair
