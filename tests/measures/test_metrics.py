"""musiclib.measures.metrics: hand-worked values, agreement with the plain-loop reference, errors, summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import reference_metrics as reference
from hypothesis import given, settings
from hypothesis import strategies as st

from musiclib.measures import metrics
from musiclib.measures.metrics import (
    METRICS,
    centricity,
    conjunct_melodic_motion,
    evaluate,
    limited_macroharmony,
    most_representative,
    rhythmic_centricity,
    rhythmic_limited_macroharmony,
    summarize,
)

# ------------------------------------------------------------------ hand-worked values


@pytest.mark.parametrize(
    ("pitches", "expected"),
    [
        ([60, 62, 64, 62], 2.0),
        ([60, 60], 0.0),
        ([60, 72, 60], 12.0),
        ([60, 61, 62, 65, 62, 63], 9 / 5),
    ],
)
def test_cmm_hand_worked(pitches, expected):
    assert conjunct_melodic_motion(pitches) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("pitches", "expected"),
    [
        ([60, 62, 64, 62], 3.0),  # shorter than the span: one window, 3 distinct -> (5 - 3) + 1
        ([60] * 20, 5.0),  # all the same: 9 windows of 1 distinct pitch
        ([60, 62] * 10, 4.0),  # alternating: 2 distinct in every window
        (list(range(60, 65)), 1.0),  # 5 distinct: ideal
        (list(range(60, 68)), 1.0),  # 8 distinct: ideal
        (list(range(60, 69)), 5.0),  # the paper's quirk: 9 distinct -> (9 - 5) + 1, not 2
        (list(range(60, 80)), 8.0),  # 20 notes, every window 12 distinct -> (12 - 5) + 1
        ([60] * 11 + [62, 64, 65, 67], 2.5),  # longer than the span: windows score 4, 3, 2, 1
    ],
)
def test_lm_hand_worked(pitches, expected):
    assert limited_macroharmony(pitches) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("pitches", "span", "expected"),
    [
        ([60] * 16, 12, 1.0),  # all the same
        ([60, 62] * 6, 12, 1 / 12),  # alternating: runs of 1
        ([60, 62, 60, 62], 12, 0.25),  # runs, not counts: 60 occurs twice but never twice in a row
        ([60, 61, 62, 62, 62, 62, 61, 61], 12, 0.5),  # longest run 4 of 8
        ([60] * 15 + [62], 12, 59 / 60),  # 5 windows: four all-60, then 11 of 12
        ([60, 60, 60, 62, 64], 4, 0.625),  # a run cut by the window start counts from it: 3/4, 2/4
    ],
)
def test_centricity_hand_worked(pitches, span, expected):
    assert centricity(pitches, span) == pytest.approx(expected, abs=1e-12)


def test_pitch_class_variants_fold_octaves():
    pitches = [60, 72, 60, 62]
    assert limited_macroharmony(pitches) == 3.0  # 60, 72, 62: 3 distinct pitches
    assert limited_macroharmony(pitches, pitch_class=True) == 4.0  # C, D: 2 pitch classes
    assert centricity(pitches) == 0.25  # no repeated note in a row
    assert centricity(pitches, pitch_class=True) == 0.75  # C is 3 of the 4 notes


def test_rhythmic_variants_hand_worked():
    # the published example: [[60,4],[62,2],[60,2]] -> grid [60,0,0,0,62,0,60,0], one window
    assert rhythmic_limited_macroharmony([60, 62, 60], [4, 2, 2]) == 4.0
    assert rhythmic_centricity([60, 62, 60], [4, 2, 2]) == pytest.approx(1 / 3)
    # quarter notes, windows of 16 sixteenths with hop 4: 5 windows of 4 onsets each
    pitches, quarters = [60, 60, 60, 60, 62, 64, 65, 67], [4] * 8
    assert rhythmic_limited_macroharmony(pitches, quarters, 16, 4) == pytest.approx((5 + 4 + 3 + 2 + 2) / 5)
    assert rhythmic_centricity(pitches, quarters, 16, 4) == pytest.approx((1 + 0.75 + 0.5 + 0.25 + 0.25) / 5)


def test_rhythmic_windows_drop_the_unfilled_tail_and_empty_windows():
    # grid of 34 positions, span 32, hop 4: one window; the last note (onset 32) falls outside it
    assert rhythmic_limited_macroharmony([60] * 16 + [62], [2] * 17) == 5.0
    assert rhythmic_centricity([60] * 16 + [62], [2] * 17) == 1.0
    # span 4, hop 4 over [60 x12 sixteenths, 62 x4]: windows 2 and 3 hold no onset and are left out
    assert rhythmic_limited_macroharmony([60, 62], [12, 4], 4, 4) == 5.0
    assert rhythmic_centricity([60, 62], [12, 4], 4, 4) == 1.0


def test_evaluate_table_shape_and_values():
    table = evaluate([[60, 62, 64, 62], [60] * 13, list(range(60, 80))])
    assert list(table.columns) == list(METRICS)
    expected = [[2.0, 3.0, 0.25], [0.0, 5.0, 1.0], [1.0, 8.0, 1 / 12]]
    np.testing.assert_allclose(table.to_numpy(), expected, rtol=0, atol=1e-12)


def test_evaluate_accepts_melody_objects_and_scores_rhythm():
    from musiclib.data.sequences import Melody

    melodies = [Melody("a", (60, 62, 60), (4, 2, 2)), Melody("b", (60, 60, 60, 60, 62, 64, 65, 67), (4,) * 8)]
    table = evaluate(melodies, rhythm=True, span=16)
    assert table["LM"].tolist() == pytest.approx([4.0, 3.2])
    assert table["CMM"].tolist() == pytest.approx([2.0, 1.0])
    assert evaluate(melodies)["LM"].tolist() == pytest.approx([4.0, 1.0])  # pitches only: one window, 5 distinct


def test_evaluate_is_the_same_across_chunk_boundaries(monkeypatch):
    rng = np.random.default_rng(1)
    melodies = [rng.integers(55, 70, size=rng.integers(2, 30)).tolist() for _ in range(50)]
    from musiclib.data.sequences import Melody

    melodies = [Melody(str(i), tuple(p), tuple(rng.integers(1, 9, size=len(p)).tolist())) for i, p in enumerate(melodies)]
    whole, whole_rhythm = evaluate(melodies), evaluate(melodies, rhythm=True)
    monkeypatch.setattr(metrics, "_NOTES_PER_CHUNK", 7)
    pd.testing.assert_frame_equal(evaluate(melodies), whole)
    pd.testing.assert_frame_equal(evaluate(melodies, rhythm=True), whole_rhythm)


# ------------------------------------------------------------------ vectorised == plain loops

narrow_songs = st.lists(st.integers(58, 66), min_size=2, max_size=40)  # repeats and runs are common
wide_songs = st.lists(st.integers(0, 127), min_size=2, max_size=40)


@settings(max_examples=150, deadline=None)
@given(pitches=st.one_of(narrow_songs, wide_songs), span=st.integers(1, 16), pitch_class=st.booleans())
def test_one_melody_matches_reference(pitches, span, pitch_class):
    assert conjunct_melodic_motion(pitches) == pytest.approx(reference.cmm(pitches), abs=1e-12)
    assert limited_macroharmony(pitches, span, pitch_class=pitch_class) == pytest.approx(
        reference.lm(pitches, span, pitch_class), abs=1e-12
    )
    assert centricity(pitches, span, pitch_class=pitch_class) == pytest.approx(
        reference.centr(pitches, span, pitch_class), abs=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(songs=st.lists(narrow_songs, min_size=1, max_size=12), span=st.integers(1, 16), pitch_class=st.booleans())
def test_evaluate_matches_reference(songs, span, pitch_class):
    table = evaluate(songs, span=span, pitch_class=pitch_class)
    np.testing.assert_allclose(table.to_numpy(), reference.evaluate(songs, span, pitch_class), rtol=0, atol=1e-12)


@st.composite
def timed_songs(draw):
    pitches = draw(narrow_songs)
    durations = draw(st.lists(st.integers(1, 20), min_size=len(pitches), max_size=len(pitches)))
    return pitches, durations


@settings(max_examples=150, deadline=None)
@given(song=timed_songs(), span_16th=st.integers(1, 40), hop_16th=st.integers(1, 8), pitch_class=st.booleans())
def test_rhythmic_variants_match_reference(song, span_16th, hop_16th, pitch_class):
    pitches, durations = song
    assert rhythmic_limited_macroharmony(pitches, durations, span_16th, hop_16th, pitch_class=pitch_class) == (
        pytest.approx(reference.rhythmic_lm(pitches, durations, span_16th, hop_16th, pitch_class), abs=1e-12)
    )
    assert rhythmic_centricity(pitches, durations, span_16th, hop_16th, pitch_class=pitch_class) == pytest.approx(
        reference.rhythmic_centr(pitches, durations, span_16th, hop_16th, pitch_class), abs=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(songs=st.lists(timed_songs(), min_size=1, max_size=8), span_16th=st.integers(1, 40))
def test_evaluate_rhythm_matches_one_melody_functions(songs, span_16th):
    from musiclib.data.sequences import Melody

    melodies = [Melody(str(i), tuple(p), tuple(d)) for i, (p, d) in enumerate(songs)]
    table = evaluate(melodies, rhythm=True, span=span_16th)
    expected = [
        (reference.cmm(p), reference.rhythmic_lm(p, d, span_16th), reference.rhythmic_centr(p, d, span_16th))
        for p, d in songs
    ]
    np.testing.assert_allclose(table.to_numpy(), expected, rtol=0, atol=1e-12)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("melodies", "message"),
    [
        ([], "empty"),
        ([[60, 62], [60]], "melody 1 has 1 note"),
        ([[60, 62], []], "melody 1 has 0 note"),
        ([[60, 62.5]], "melody 0: pitches must be whole numbers, got 62.5 at note 1"),
        ([[60, 62], [60, 128]], "melody 1: pitches must be MIDI numbers 0..127, got 128"),
        ([[-1, 60]], "0..127, got -1"),
        ([["C4", "D4"]], "melody 0: pitches must be a flat sequence of numbers"),
        ([[[60, 62], [64, 65]]], "flat sequence"),
        ([[True, False]], "flat sequence"),
        ([[60, float("nan")]], "whole numbers"),
    ],
)
def test_evaluate_rejects_bad_melodies(melodies, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        evaluate(melodies)


def test_one_melody_functions_reject_bad_input():
    with pytest.raises(ValueError, match="has 1 note"):
        conjunct_melodic_motion([60])
    with pytest.raises(ValueError, match="span must be a positive integer, got 0"):
        limited_macroharmony([60, 62], span=0)
    with pytest.raises(ValueError, match="span must be a positive integer"):
        centricity([60, 62], span=2.5)
    with pytest.raises(ValueError, match="3 durations_16th for 2 pitches"):
        rhythmic_centricity([60, 62], [4, 4, 4])
    with pytest.raises(ValueError, match="durations_16th must be at least 1"):
        rhythmic_limited_macroharmony([60, 62], [4, 0])
    with pytest.raises(ValueError, match="hop_16th must be a positive integer"):
        rhythmic_limited_macroharmony([60, 62], [4, 4], hop_16th=0)


def test_evaluate_accepts_numpy_arrays_and_integral_floats():
    table = evaluate([np.array([60, 62, 64, 62], dtype=np.int16), [60.0, 62.0, 64.0, 62.0]])
    assert table["CMM"].tolist() == [2.0, 2.0]
    assert table["LM"].tolist() == [3.0, 3.0]


def test_rhythm_needs_durations():
    with pytest.raises(ValueError, match="melody 0 has no durations_16th"):
        evaluate([[60, 62, 64]], rhythm=True)


# ------------------------------------------------------------------ summaries and statistics


def _table(rows):
    return pd.DataFrame(rows, columns=list(METRICS))


def test_summarize_mean_sample_std_and_count():
    summary = summarize(_table([[1.0, 2.0, 0.1], [3.0, 4.0, 0.3]]))
    assert list(summary.index) == list(METRICS)
    assert summary["mean"].tolist() == pytest.approx([2.0, 3.0, 0.2])
    assert summary["std"].tolist() == pytest.approx([2**0.5, 2**0.5, 0.02**0.5])  # ddof=1
    assert summary["n"].tolist() == [2, 2, 2]


def test_most_representative_is_closest_to_the_mean_point():
    # mean point (4, 4.025, 0.4): distances 4.3, 1.4, 2.8, 8.5
    table = _table([[1, 1, 0.1], [3, 3, 0.3], [2, 2.1, 0.2], [10, 10, 1.0]])
    assert most_representative(table) == 1
    assert most_representative(table.set_axis(["w", "x", "y", "z"])) == 1  # a position, not a label


def test_tables_without_metric_columns_are_rejected():
    with pytest.raises(ValueError, match=r"lacks the metric column\(s\) \['CENTR'\]"):
        summarize(pd.DataFrame({"CMM": [1.0], "LM": [1.0]}))
    with pytest.raises(ValueError, match="no rows"):
        most_representative(_table([]))


# ------------------------------------------------------------------ real data: Essen


def test_essen_melodies_match_reference(essen_slice):
    melodies = essen_slice.melodies
    for pitch_class in (False, True):
        table = evaluate(melodies, pitch_class=pitch_class)
        expected = reference.evaluate([m.pitches for m in melodies], 12, pitch_class)
        np.testing.assert_allclose(table.to_numpy(), expected, rtol=0, atol=1e-12)
    rhythm = evaluate(melodies, rhythm=True)
    expected_lm = [reference.rhythmic_lm(m.pitches, m.durations_16th) for m in melodies]
    expected_centr = [reference.rhythmic_centr(m.pitches, m.durations_16th) for m in melodies]
    np.testing.assert_allclose(rhythm["LM"], expected_lm, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rhythm["CENTR"], expected_centr, rtol=0, atol=1e-12)


def test_cli_prints_our_baseline_next_to_table_i(capsys):
    from musiclib import published
    from musiclib.cli import main
    from musiclib.measures.baseline import dataset_baseline

    assert main(["evaluate", "--data_dir", "essen", "--max_songs", "40"]) == 0
    printed = capsys.readouterr().out
    ours = summarize(dataset_baseline("essen", max_songs=40)[0])
    paper = published.table("table_i").set_index("metric")
    for metric in METRICS:
        line = next(line for line in printed.splitlines() if line.startswith(f"{metric:<8}"))
        assert f"{ours.loc[metric, 'mean']:.2f} ± {ours.loc[metric, 'std']:.2f}" in line
        assert line.endswith(f"{paper.loc[metric, 'mean']:.2f} ± {paper.loc[metric, 'std']:.2f}")
    assert "TABLE I" in printed and "40 kept" in printed


def test_cli_reports_a_bad_dataset(capsys):
    from musiclib.cli import main

    assert main(["evaluate", "--data_dir", "/no/such/folder"]) == 2
    assert "/no/such/folder" in capsys.readouterr().err

