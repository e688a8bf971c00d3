"""Run-to-run variance: replicate seeds through the grid, and the hierarchical bootstrap's coverage."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from musiclib.chapters.generation.analysis import generate_for_selected
from musiclib.chapters.generation.replicates import (
    CONTRAST_COLUMNS,
    cell_contrasts,
    replicate_points,
    replicate_song_metrics,
    replicate_study,
    seed_intervals,
    train_replicates,
    variance_summary,
)
from musiclib.experiments import grid, profiles
from musiclib.experiments.profiles import ProfileError, ReplicateSettings, load_profile
from musiclib.experiments.selection import select_layers, selected_runs
from musiclib.measures.stats import hierarchical_interval


def synthetic(rng, n_seeds, n_songs, between_sd, within_sd=1.0, true_mean=0.0):
    seed_effects = rng.normal(true_mean, between_sd, size=n_seeds)
    return [rng.normal(effect, within_sd, size=n_songs) for effect in seed_effects]


def coverage(n_seeds, between_sd, *, datasets=200, hierarchical=True):
    rng = np.random.default_rng(n_seeds)
    covered = 0
    for index in range(datasets):
        groups = synthetic(rng, n_seeds, 30, between_sd)
        if not hierarchical:  # songs pooled as if independent: the between-seed variance is lost
            groups = [np.concatenate(groups)]
        _, low, high = hierarchical_interval(groups, n_resamples=1000, seed=index)
        covered += low <= 0.0 <= high
    return covered / datasets


def test_hierarchical_bootstrap_covers_the_true_mean_at_about_the_nominal_rate():
    """10 seeds x 30 songs, between-seed sd 0.5, within-seed sd 1: a 95 % interval should cover
    the true mean in roughly 95 % of 200 data sets (binomial sd 1.5 %, small-sample undercoverage
    of a percentile bootstrap with 10 clusters allowed for)."""
    assert 0.88 <= coverage(10, 0.5) <= 0.99


def test_pooling_songs_of_all_seeds_undercovers():
    """The same data with the seeds ignored: the interval misses the between-seed variance."""
    assert coverage(10, 0.5, hierarchical=False) < 0.7


def test_hierarchical_interval_grows_with_between_seed_variance():
    rng = np.random.default_rng(0)
    widths = []
    for between_sd in (0.0, 1.0):
        _, low, high = hierarchical_interval(synthetic(rng, 5, 100, between_sd), seed=0)
        widths.append(high - low)
    assert widths[1] > 3 * widths[0]
    with pytest.raises(ValueError, match="at least one value per seed"):
        hierarchical_interval([np.ones(3), np.zeros(0)])


def test_contrast_table_on_known_cells():
    """Cell a is 1 above cell b in every seed; cell c equals b: only a-vs-others excludes zero."""
    rng = np.random.default_rng(2)
    rows = []
    for cell, shift in (("a", 1.0), ("b", 0.0), ("c", 0.0)):
        for seed, values in enumerate(synthetic(rng, 3, 50, 0.1, 0.5, shift)):
            rows += [{"variant": "control", "cell": cell, "training_seed": seed, "CMM": value} for value in values]
    per_song = pd.DataFrame(rows)
    contrasts = cell_contrasts(per_song, ["CMM"]).set_index(["cell_a", "cell_b"])
    assert contrasts.loc[("a", "b"), "difference"] == pytest.approx(1.0, abs=0.3)
    assert contrasts.loc[("a", "b"), "excludes_zero"] and contrasts.loc[("a", "c"), "excludes_zero"]
    assert contrasts.loc[("b", "c"), "ci_low"] < 0 < contrasts.loc[("b", "c"), "ci_high"]
    intervals = seed_intervals(per_song, ["CMM"])
    assert intervals["n_seeds"].tolist() == [3, 3, 3]
    assert ((intervals["ci_low"] < intervals["mean"]) & (intervals["mean"] < intervals["ci_high"])).all()
    [summary] = variance_summary(intervals, contrasts.reset_index()).to_dict("records")
    assert summary["contrasts_excluding_zero"] == "2 of 3"
    assert summary["cell_difference"] == pytest.approx(1.0, abs=0.3)  # median of |1|, |1|, |0|
    assert summary["ratio"] > 3  # seeds vary by about 0.1 around cell gaps of 1


def test_replicates_section_is_checked(tmp_path):
    smoke = (profiles.PROFILES_DIR / "smoke.toml").read_text()
    text = smoke[: smoke.index("[replicates]")] + '[replicates]\nseeds = [1]\ncells = ["gru"]\n'
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ProfileError, match="replicates.cells"):
        load_profile(path)
    # the study replicates all nine selected models; smoke only two control models, to stay fast
    assert load_profile("study").replicates == ReplicateSettings((1, 2), ("control", "interval", "db12"), ("lstm", "nas", "ugrnn"))
    assert load_profile("smoke").replicates == ReplicateSettings((1,), ("control",), ("lstm", "nas"))


@pytest.mark.slow
def test_replicates_train_through_the_grid(tiny):
    profile, runs_dir, data, result = tiny
    selection = select_layers(result)
    lstm = grid.GridPoint("control", "lstm", int(selection.set_index("cell").loc["lstm", "num_layers"]))
    assert replicate_points(profile, selection) == [lstm]
    replicates = train_replicates(profile, runs_dir, selection, data=data)
    assert sorted(replicates) == [0, 1]
    folder = f"{lstm.cell}-{lstm.num_layers}"
    assert (runs_dir / profile.name / "replicates" / "seed-1" / "control" / folder / "complete.json").is_file()
    first, second = (replicates[seed].runs[lstm] for seed in (0, 1))
    assert first.run_dir == grid.run_dir(runs_dir, profile, lstm)
    assert not np.allclose(first.model.get_layer("logits").get_weights()[0], second.model.get_layer("logits").get_weights()[0])
    per_song = replicate_song_metrics(profile, replicates, selection)
    assert per_song.groupby("training_seed").size().tolist() == [profile.generation.n_songs] * 2
    assert set(per_song["cell"]) == {"lstm"}
    study = replicate_study(profile, runs_dir, selection, data=data)
    assert study.per_song.equals(per_song)  # the same runs reused, the same sampling seed
    assert study.intervals["n_seeds"].tolist() == [2, 2, 2]
    assert study.contrasts.empty and list(study.contrasts.columns) == CONTRAST_COLUMNS  # one cell: no contrast
    assert study.summary["metric"].tolist() == ["CMM", "LM", "CENTR"]
    without = replace(profile, replicates=ReplicateSettings())
    assert replicate_study(without, runs_dir, selection, data=data) is None


@pytest.mark.slow
def test_interval_and_db12_replicates_decode_their_songs(tmp_path):
    """Replicates of an interval and a DB12 model: every seed's songs are MIDI pitches that start with
    the paper's seed (the interval model's "60 2 2 -2" decoded to C4 D4 E4 D4)."""
    from conftest import TINY_PROFILE, write_profile

    text = (TINY_PROFILE.replace('variants = ["control"]', 'variants = ["interval", "db12"]')
            .replace('cells = ["lstm", "ugrnn"]', 'cells = ["lstm"]').replace("layers = [1, 2]", "layers = [1]")
            .replace("num_epochs = { control = 1 }", "num_epochs = { interval = 1, db12 = 1 }")
            + '[replicates]\nseeds = [1]\nvariants = ["interval", "db12"]\ncells = ["lstm"]\n')
    profile = load_profile(write_profile(tmp_path, text, "tiny_variants"))
    data = grid.load_data(profile)
    selection = select_layers(grid.run_grid(profile, tmp_path / "runs", data=data))
    replicates = train_replicates(profile, tmp_path / "runs", selection, data=data)
    for result in replicates.values():
        for (variant, _), songs in generate_for_selected(profile, selected_runs(result, selection)).items():
            assert all(song[:4] == [60, 62, 64, 62] and len(song) == 4 + 10 for song in songs), variant
            assert all(0 <= pitch <= 127 for song in songs for pitch in song)
    study = replicate_study(profile, tmp_path / "runs", selection, data=data)
    assert study.per_song.groupby(["variant", "training_seed"]).size().to_dict() == {
        (variant, seed): profile.generation.n_songs for variant in ("db12", "interval") for seed in (0, 1)}
    assert study.intervals["n_seeds"].tolist() == [2] * 6 and study.intervals["between_seed_sd"].notna().all()


@pytest.mark.slow
def test_a_seed_the_grid_trained_is_reused_not_retrained(tmp_path):
    """With ``[grid] seeds = 2`` the grid already trained seed 1 of every point: the replicate of
    seed 1 is that run (its folder ``<cell>-<layers>-seed-1``), and nothing is trained under
    ``replicates/``; seed 2, which the grid lacks, is trained there."""
    from conftest import TINY_PROFILE, write_profile

    text = (TINY_PROFILE.replace('cells = ["lstm", "ugrnn"]', 'cells = ["lstm"]').replace("layers = [1, 2]", "layers = [1]")
            .replace("workers = 2", "workers = 1\nseeds = 2")
            + '[replicates]\nseeds = [1, 2]\nvariants = ["control"]\ncells = ["lstm"]\n')
    profile = load_profile(write_profile(tmp_path, text, "tiny_seeds"))
    runs_dir = tmp_path / "runs"
    data = grid.load_data(profile)
    result = grid.run_grid(profile, runs_dir, data=data)
    assert len(result.runs) == 2
    selection = select_layers(result)
    replicates = train_replicates(profile, runs_dir, selection, data=data)
    assert sorted(replicates) == [0, 1, 2]
    (seed_one,) = replicates[1].runs.values()
    assert seed_one.run_dir == grid.run_dir(runs_dir, profile, grid.GridPoint("control", "lstm", 1, 1))
    assert str(seed_one.run_dir).endswith("lstm-1-seed-1")
    replicate_root = runs_dir / profile.name / "replicates"
    assert not (replicate_root / "seed-1").exists()
    assert (replicate_root / "seed-2" / "control" / "lstm-1" / "complete.json").is_file()
