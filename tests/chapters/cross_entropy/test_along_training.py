"""The cross-entropy study: schedule, normalisation, held-out scoring, cross-run and late trends,
the panels, the claim's test."""

import math

import numpy as np
import pandas as pd
import pytest

from musiclib.chapters.cross_entropy.along_training import (
    checkpoint_schedule,
    checkpoint_summary,
    held_out_loss,
    late_trends,
    loss_along_training,
    measures_along_training,
    melody_evolution_checkpoints,
    normalised_loss,
    songs_along_training,
    t_interval,
    training_steps,
    trend_across_runs,
    trend_per_run,
)
from musiclib.chapters.cross_entropy.claim import (
    LONG_TERM_MAX_GAP_CLOSED,
    SHORT_TERM_MIN_GAP_CLOSED,
    VERDICTS,
    claim_findings,
    claim_table,
    claim_verdict,
    gap_closed_per_run,
    gap_difference,
    verdict_rule,
)
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


def test_t_interval_by_hand():
    # mean 3, sd 1, t(0.975, 2) = 4.302653
    assert t_interval([2.0, 4.0, 3.0]) == pytest.approx((3.0, 3 - 4.302653 / math.sqrt(3), 3 + 4.302653 / math.sqrt(3)), abs=1e-6)
    with pytest.raises(ValueError, match="at least 2 runs"):
        t_interval([1.0])


def test_late_trends_use_the_last_checkpoints_against_log_step():
    """Each run's measure is flat early, then grows by `rate` per tenfold steps over the last 4 checkpoints."""
    rows = []
    for run, rate in ((0, 0.02), (1, 0.03), (2, 0.025)):
        for step in (0, 10, 100, 1000, 10000, 100000):
            mean = 0.0 if step < 100 else rate * (math.log10(step) - 2)
            rows.append({"run": run, "step": step, "normalised_loss": 1.0, "measure": "recurring_patterns_excess", "scale": "long", "mean": mean})
    late = late_trends(pd.DataFrame(rows), 4).iloc[0]
    assert late["slope_mean"] == pytest.approx(0.025) and late["n_runs"] == 3
    assert late["slope_ci_low"] == pytest.approx(0.025 - 4.302653 * 0.005 / math.sqrt(3), abs=1e-6)
    with pytest.raises(ValueError, match="after step 0"):
        late_trends(pd.DataFrame(rows), 6)
    with pytest.raises(ValueError, match="at least 3"):
        late_trends(pd.DataFrame(rows), 2)


def _gaps(short_shares, long_shares):
    """Per-run shares of the gap closed of one short- and one long-term measure."""
    return pd.DataFrame(
        [{"run": run, "measure": "CMM", "scale": "short", "gap_closed": share} for run, share in enumerate(short_shares)]
        + [{"run": run, "measure": "recurring_patterns_excess", "scale": "long", "gap_closed": share} for run, share in enumerate(long_shares)]
    )


def test_gap_closed_per_run_and_difference_by_hand():
    # CMM of run 0: 12 -> 3, of run 1: 10 -> 4; held-out songs 2: shares 9 / 10 and 6 / 8
    summary = pd.DataFrame({
        "run": [0, 0, 0, 1, 1, 1], "step": [0, 50, 100] * 2, "measure": "CMM", "scale": "short",
        "mean": [12.0, 5.0, 3.0, 10.0, 6.0, 4.0],
    })
    gaps = gap_closed_per_run(summary, pd.DataFrame({"CMM": [1.0, 3.0]}))
    assert gaps["gap_closed"].tolist() == pytest.approx([0.9, 0.75])
    assert gaps[["initial", "final", "held_out"]].iloc[1].tolist() == [10.0, 4.0, 2.0]
    difference = gap_difference(_gaps([0.9, 1.0, 0.95], [0.1, 0.3, 0.2]))
    # per run 0.8, 0.7, 0.75: mean 0.75, sd 0.05
    assert difference["per_run"] == pytest.approx({0: 0.8, 1: 0.7, 2: 0.75})
    assert difference["ci_low"] == pytest.approx(0.75 - 4.302653 * 0.05 / math.sqrt(3), abs=1e-6)
    with pytest.raises(ValueError, match="short- and long-term"):
        gap_difference(_gaps([0.9, 1.0], []))


def _claim(short_gap=0.95, long_gap=0.2, long_late=(-0.01, 0.02), long_initial=0.0):
    """A hand-made claim table: CMM (short-term) and recurring patterns (long-term, data at 0.3)."""
    return pd.DataFrame([
        {"measure": "CMM", "scale": "short", "initial": 12.0, "final": 12 - 9.5 * short_gap, "held_out": 2.5,
         "gap_closed": short_gap, "gap_closed_min": short_gap - 0.05, "gap_closed_max": short_gap + 0.05,
         "slope_mean": 6.0, "slope_ci_low": 5.0, "slope_ci_high": 7.0, "n_runs": 3, "improves": True,
         "late_slope": -0.1, "late_ci_low": -0.3, "late_ci_high": 0.1, "still_improving": False},
        {"measure": "recurring_patterns_excess", "scale": "long", "initial": long_initial, "final": 0.3 * long_gap,
         "held_out": 0.3, "gap_closed": long_gap, "gap_closed_min": long_gap - 0.1, "gap_closed_max": long_gap + 0.1,
         "slope_mean": -0.06, "slope_ci_low": -0.08, "slope_ci_high": -0.05, "n_runs": 3, "improves": True,
         "late_slope": sum(long_late) / 2, "late_ci_low": long_late[0], "late_ci_high": long_late[1],
         "still_improving": long_late[0] > 0},
    ])


SEPARATE = {"mean": 0.75, "ci_low": 0.6, "ci_high": 0.9, "n_runs": 3}


def test_claim_verdict_applies_the_thresholds_in_order():
    assert claim_verdict(_claim(), SEPARATE) == {
        "verdict": "supported", "conditions": {"short": True, "long": True, "noise": True, "still": True}, "failing": []}
    just_short = claim_verdict(_claim(short_gap=SHORT_TERM_MIN_GAP_CLOSED - 0.01), SEPARATE)
    assert just_short["verdict"] == VERDICTS["short"] and just_short["failing"] == ["CMM"]
    assert claim_verdict(_claim(short_gap=SHORT_TERM_MIN_GAP_CLOSED), SEPARATE)["verdict"] == "supported"
    too_long = claim_verdict(_claim(long_gap=LONG_TERM_MAX_GAP_CLOSED + 0.01), SEPARATE)
    assert too_long["verdict"] == VERDICTS["long"] and too_long["failing"] == ["recurring_patterns_excess"]
    noisy = claim_verdict(_claim(), {**SEPARATE, "ci_low": -0.1})
    assert noisy["verdict"] == VERDICTS["noise"] and noisy["conditions"]["noise"] is False
    still = claim_verdict(_claim(long_late=(0.01, 0.05)), SEPARATE)
    assert still["verdict"] == VERDICTS["still"] and still["failing"] == ["recurring_patterns_excess"]
    # a failing short-term half decides before a still-improving long-term measure
    assert claim_verdict(_claim(short_gap=0.5, long_late=(0.01, 0.05)), SEPARATE)["verdict"] == VERDICTS["short"]
    assert claim_verdict(_claim(short_gap=0.9, long_gap=0.4), SEPARATE, short_min=0.95, long_max=0.3)["verdict"] == VERDICTS["short"]


def test_verdict_rule_states_the_thresholds():
    rule = verdict_rule()
    assert "at least 75% of its gap" in rule and "at most 50% of its gap" in rule
    assert "95% t interval across seeds above 0" in rule and "last 4 checkpoints" in rule
    assert "at least 60% of its gap" in verdict_rule(short_min=0.6)


def test_claim_findings_on_hand_made_tables():
    labels = {"CMM": "CMM (mean step)", "recurring_patterns_excess": "recurring patterns"}
    sentences = claim_findings(_claim(), SEPARATE, labels)
    assert sentences[0].startswith("CMM (mean step) (short-term): 12 at the first checkpoint, 2.97 at the last, 2.5 in "
                                   "held-out songs: 95% of the gap closed (90% to 100% over 3 seeds); a reliable improvement")
    assert sentences[1].startswith("recurring patterns (long-term)") and sentences[1].endswith(
        "+0.005 per tenfold more steps [-0.01, 0.02], not reliably improving at the end.")
    assert sentences[2] == ("Per seed, the short-term measures' mean share of the gap closed exceeded the long-term measures' "
                            "by 75 percentage points (95% interval across 3 seeds: 60 to 90).")
    assert sentences[3].endswith("struggles with long-term consistency is supported.")
    still = claim_findings(_claim(long_late=(0.01, 0.05)), SEPARATE, labels)
    assert still[1].endswith(", still improving at the end.") and still[-1].endswith(f"is {VERDICTS['still']} (recurring patterns).")
    assert "-0%" not in claim_findings(_claim(long_gap=-0.002), SEPARATE)[1]


def test_claim_table_from_gaps_and_trends():
    gaps = pd.DataFrame({
        "run": [0, 1], "measure": "recurring_patterns_excess", "scale": "long", "initial": [0.0, 0.02],
        "final": [0.05, 0.07], "held_out": 0.3, "gap_closed": [0.05 / 0.3, 0.05 / 0.28],
    })
    across = pd.DataFrame([{"measure": "recurring_patterns_excess", "scale": "long", "n_runs": 2, "slope_mean": -0.07,
                            "slope_ci_low": -0.09, "slope_ci_high": -0.05}])
    late = pd.DataFrame([{"measure": "recurring_patterns_excess", "slope_mean": 0.02, "slope_ci_low": 0.01, "slope_ci_high": 0.03}])
    row = claim_table(gaps, across, late).iloc[0]
    assert row["initial"] == pytest.approx(0.01) and row["final"] == pytest.approx(0.06)
    assert row["gap_closed"] == pytest.approx((0.05 / 0.3 + 0.05 / 0.28) / 2)
    assert row["gap_closed_min"] == pytest.approx(0.05 / 0.3) and row["gap_closed_max"] == pytest.approx(0.05 / 0.28)
    # the data lie above: a negative slope with the loss and a positive one with the steps move towards them
    assert row["improves"] and row["still_improving"]
    away = claim_table(gaps, across, late.assign(slope_mean=-0.02, slope_ci_low=-0.03, slope_ci_high=-0.01)).iloc[0]
    assert not away["still_improving"]
    unsure = claim_table(gaps, across.assign(slope_ci_high=0.01), late.assign(slope_ci_low=-0.01)).iloc[0]
    assert not unsure["improves"] and not unsure["still_improving"]


def test_melody_evolution_picks_the_closest_normalised_loss():
    losses = pd.DataFrame({"run": 0, "step": [0, 10, 25, 40, 800, 5000], "normalised_loss": [1.0, 0.8, 0.7, 0.64, 0.47, 0.3]})
    picked = melody_evolution_checkpoints(losses)
    # paper: 4.68086, 3.74101, 3.19856, 2.19148, 1.59703 over ln 111 = 0.9939, 0.7944, 0.6792, 0.4653, 0.3391
    assert picked["paper_normalised"].tolist() == pytest.approx([0.99391, 0.79435, 0.67917, 0.46533, 0.33911], abs=1e-5)
    assert picked["step"].tolist() == [0, 10, 25, 800, 5000]
    with pytest.raises(ValueError, match="no column 'normalised_batch_loss'"):
        melody_evolution_checkpoints(losses, column="normalised_batch_loss")


def test_melody_evolution_gives_panels_d_and_e_different_checkpoints():
    """Training that ends above panel (d)'s loss (0.465): (e) is the end of training, (d) the closest before it."""
    losses = pd.DataFrame({"run": 0, "step": [0, 20, 30, 100, 750, 3162, 3744],
                           "normalised_loss": [1.0, 0.8, 0.68, 0.6, 0.52, 0.48, 0.47]})
    assert melody_evolution_checkpoints(losses)["step"].tolist() == [0, 20, 30, 3162, 3744]
    # a loss that reaches panel (e)'s level (0.339) ends the match there, not at the last checkpoint
    reached = pd.DataFrame({"run": 0, "step": [0, 20, 30, 750, 20000, 40000, 60000],
                            "normalised_loss": [1.0, 0.8, 0.68, 0.47, 0.33, 0.31, 0.35]})
    assert melody_evolution_checkpoints(reached)["step"].tolist() == [0, 20, 30, 750, 20000]
    # (a) is the untrained model even where a later checkpoint is as close to its loss, and the
    # order is kept where a later checkpoint is closer to an earlier panel: steps increase
    crowded = pd.DataFrame({"run": 0, "step": [0, 1, 2, 3, 4, 5], "normalised_loss": [1.0, 0.994, 0.97, 0.96, 0.95, 0.94]})
    assert melody_evolution_checkpoints(crowded)["step"].tolist() == [0, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="needs as many"):
        melody_evolution_checkpoints(losses.head(4))


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
    gaps = gap_closed_per_run(summary, reference_measures(splits.validation, 24, n_shuffles=3))
    table = claim_table(gaps, across, late_trends(summary, 4))
    sentences = claim_findings(table, gap_difference(gaps))
    assert claim_verdict(table, gap_difference(gaps))["verdict"] in sentences[-1]
