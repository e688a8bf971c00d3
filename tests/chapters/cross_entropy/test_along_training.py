"""The cross-entropy study: schedule, normalisation, held-out scoring, cross-run trends, the claim."""

import math

import numpy as np
import pandas as pd
import pytest

from musiclib.chapters.cross_entropy.along_training import (
    checkpoint_schedule,
    checkpoint_summary,
    held_out_loss,
    loss_along_training,
    measures_along_training,
    melody_evolution_checkpoints,
    normalised_loss,
    songs_along_training,
    training_steps,
    trend_across_runs,
    trend_per_run,
)
from musiclib.chapters.cross_entropy.claim import claim_findings, claim_table
from musiclib.data import sequences
from musiclib.measures.structure import reference_measures
from musiclib.models.network import build_model


def test_checkpoint_schedule_has_the_paper_steps_and_the_end():
    steps = checkpoint_schedule(40000)
    assert {0, 20, 30, 750, 40000} <= set(steps)
    assert steps == sorted(set(steps))
    assert steps[:5] == [0, 1, 2, 3, 6]  # 10**0, 10**0.25, 10**0.5, 10**0.75 rounded
    assert checkpoint_schedule(25) == [0, 1, 2, 3, 6, 10, 18, 20, 25]
    assert checkpoint_schedule(100, per_decade=1, include=()) == [0, 1, 10, 100]
    with pytest.raises(ValueError, match="total_steps must be a positive integer"):
        checkpoint_schedule(0)


def test_normalised_loss_by_hand():
    assert normalised_loss(math.log(111), 111) == pytest.approx(1.0)
    # the paper's last panel: 1.59703 / ln 111 = 1.59703 / 4.709530 = 0.339106
    assert normalised_loss(1.59703, 111) == pytest.approx(0.339106, abs=1e-6)
    assert normalised_loss([math.log(2), 0.0], 4) == pytest.approx([0.5, 0.0])
    with pytest.raises(ValueError, match="vocab_size must be an integer of at least 2"):
        normalised_loss(1.0, 1)


def _fixed_output_model(probabilities):
    """A real model whose next-note distribution is ``probabilities`` whatever came before."""
    model = build_model("lstm", 1, len(probabilities), 4)
    kernel, _ = model.get_layer("logits").get_weights()
    model.get_layer("logits").set_weights([np.zeros_like(kernel), np.log(probabilities).astype("float32")])
    return model


def test_held_out_loss_by_hand():
    vocab = sequences.Vocabulary([60, 62, 64, 65])
    songs = [[60, 62, 64], [65, 60, 60, 62, 64, 60]]  # 2 + 5 predicted notes
    uniform = _fixed_output_model([0.25] * 4)
    assert held_out_loss(uniform, songs, vocab) == pytest.approx(math.log(4), rel=1e-5)
    skewed = _fixed_output_model([0.5, 0.25, 0.125, 0.125])
    # predicted notes: 62 64 | 60 60 62 64 60 -> -ln of .25 .125 .5 .5 .25 .125 .5
    expected = -np.log([0.25, 0.125, 0.5, 0.5, 0.25, 0.125, 0.5]).mean()
    assert held_out_loss(skewed, songs, vocab) == pytest.approx(expected, rel=1e-5)
    assert held_out_loss(skewed, songs, vocab, tokens_per_batch=1) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="at least 2 tokens"):
        held_out_loss(skewed, [[60]], vocab)


def _summary(slopes_by_run, measure="CMM", scale_steps=(0, 10, 100, 1000)):
    """A checkpoint summary where the measure is exactly intercept + slope * normalised loss."""
    rows = []
    for run, slope in slopes_by_run.items():
        for step, loss in zip(scale_steps, (1.0, 0.8, 0.5, 0.4)):
            rows.append({"run": run, "step": step, "loss": loss * 3, "normalised_loss": loss, "measure": measure, "scale": "short", "mean": 1 + slope * loss})
    return pd.DataFrame(rows)


def test_trend_per_run_and_across_runs_by_hand():
    per_run = trend_per_run(_summary({0: 2.0, 1: 4.0, 2: 3.0}))
    assert per_run["slope"].tolist() == pytest.approx([2.0, 4.0, 3.0])
    assert per_run["spearman_rho"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    across = trend_across_runs(per_run).iloc[0]
    # mean 3, sd 1, t(0.975, 2) = 4.302653 -> 3 +- 4.302653 / sqrt(3)
    assert across["slope_mean"] == pytest.approx(3.0)
    assert across["slope_ci_low"] == pytest.approx(3 - 4.302653 / math.sqrt(3), abs=1e-5)
    assert across["same_sign"] == 3 and across["n_runs"] == 3
    with pytest.raises(ValueError, match="at least 2 seeds"):
        trend_across_runs(trend_per_run(_summary({0: 1.0})))


def _claim(short_ci, long_ci, long_final=0.25):
    """A hand-made claim table: CMM falls from 12 to 3 (data 2.5); recurring patterns 0 -> long_final (data 0.3)."""
    return pd.DataFrame(
        [
            {"measure": "CMM", "scale": "short", "initial": 12.0, "final": 3.0, "reference": 2.5, "gap_closed": 9 / 9.5,
             "slope_mean": sum(short_ci) / 2, "slope_ci_low": short_ci[0], "slope_ci_high": short_ci[1], "n_runs": 3, "improves": short_ci[0] > 0},
            {"measure": "recurring_patterns_excess", "scale": "long", "initial": 0.0, "final": long_final, "reference": 0.3,
             "gap_closed": long_final / 0.3, "slope_mean": sum(long_ci) / 2, "slope_ci_low": long_ci[0], "slope_ci_high": long_ci[1],
             "n_runs": 3, "improves": long_ci[1] < 0},
        ]
    )


def test_claim_findings_on_hand_made_tables():
    supported = claim_findings(_claim((5.0, 8.0), (-0.2, 0.1), long_final=0.05))
    assert supported["verdict"] == "supported"
    assert supported["long_gap"] == pytest.approx(0.05 / 0.3)
    assert "95%" in supported["sentences"][0] and "not a reliable" in supported["sentences"][1]
    as_much = claim_findings(_claim((5.0, 8.0), (-0.5, -0.3), long_final=0.3))
    assert as_much["verdict"] == "not supported: long-term structure improves as much"
    assert claim_findings(_claim((-1.0, 8.0), (-0.5, -0.3)))["verdict"].startswith("not supported: short-term")
    assert "long-term measures 0%:" in claim_findings(_claim((5.0, 8.0), (-0.2, 0.1), long_final=-0.0006))["sentences"][-1]


def test_claim_table_from_summary_and_reference():
    summary = _summary({0: 2.0, 1: 4.0})
    table = claim_table(summary, trend_across_runs(trend_per_run(summary)), pd.DataFrame({"CMM": [1.0, 2.0]}))
    row = table.iloc[0]
    # first checkpoint 1 + 3 * 1.0 = 4 (mean of runs), last 1 + 3 * 0.4 = 2.2, data 1.5
    assert row["initial"] == pytest.approx(4.0) and row["final"] == pytest.approx(2.2)
    assert row["gap_closed"] == pytest.approx(1.8 / 2.5)
    assert not row["improves"]  # two runs: t(0.975, 1) = 12.7 makes the interval include 0


def test_melody_evolution_picks_the_closest_normalised_loss():
    losses = pd.DataFrame({"run": 0, "step": [0, 10, 25, 40, 800, 5000], "normalised_loss": [1.0, 0.8, 0.7, 0.64, 0.47, 0.3]})
    picked = melody_evolution_checkpoints(losses)
    # paper: 4.68086, 3.74101, 3.19856, 2.19148, 1.59703 over ln 111 = 0.9939, 0.7944, 0.6792, 0.4653, 0.3391
    assert picked["paper_normalised"].tolist() == pytest.approx([0.99391, 0.79435, 0.67917, 0.46533, 0.33911], abs=1e-5)
    assert picked["step"].tolist() == [0, 10, 25, 800, 5000]
    with pytest.raises(ValueError, match="no column 'normalised_batch_loss'"):
        melody_evolution_checkpoints(losses, column="normalised_batch_loss")


@pytest.mark.slow
def test_study_on_two_tiny_real_runs(essen_slice, tmp_path):
    from musiclib.models.train import TrainConfig, train

    melodies = essen_slice.melodies
    splits = sequences.Splits(train=[m for i, m in enumerate(melodies) if i % 5], validation=melodies[::5], test=[])
    control = sequences.prepare_variant(splits, "control")
    per_song = []
    for seed in (0, 1):
        config = TrainConfig(num_layers=1, rnn_size=16, batch_size=10, seq_length=20, num_epochs=2, save_every=15, seed=seed, learning_rate=0.01)
        run_dir = tmp_path / f"seed-{seed}"
        train(config, control, run_dir, progress=False)
        losses = loss_along_training(run_dir, control.validation, run=seed)
        assert losses["step"].iloc[-1] == training_steps(config, control)
        assert losses["step"].iloc[0] == 0
        assert losses["normalised_loss"].iloc[0] == pytest.approx(1.0, abs=0.05)  # untrained: near the uniform guess
        assert losses["loss"].iloc[-1] < losses["loss"].iloc[0]
        songs = songs_along_training(run_dir, "control", n_notes=20, n_songs=8)
        assert songs.keys() == set(losses["step"])
        per_song.append(measures_along_training(songs, losses, n_shuffles=3))
    summary = checkpoint_summary(pd.concat(per_song), n_resamples=200)
    assert (summary["ci_low"] <= summary["mean"]).all() and (summary["mean"] <= summary["ci_high"]).all()
    across = trend_across_runs(trend_per_run(summary))
    assert set(across["n_runs"]) == {2}
    findings = claim_findings(claim_table(summary, across, reference_measures(splits.validation, 24, n_shuffles=3)))
    assert findings["verdict"] in findings["sentences"][-1]
