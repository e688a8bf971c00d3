"""Chapter 5's reference without long memory: Kneser-Ney songs on real Essen songs, their comparison
with the network's songs by hand, and the sentences."""

import pandas as pd
import pytest

from musiclib.chapters.cross_entropy.ngram_reference import (
    NgramReference,
    ngram_comparison,
    ngram_findings,
    ngram_reference,
)
from musiclib.data import sequences
from musiclib.measures.ngram import select_kneser_ney
from musiclib.measures.structure import MEASURES


@pytest.fixture(scope="module")
def essen_splits(essen_slice):
    melodies = essen_slice.melodies
    return sequences.Splits(train=[m for i, m in enumerate(melodies) if i % 5], validation=melodies[::5], test=[])


def test_ngram_reference_samples_measured_songs_after_the_seed(essen_splits):
    control = sequences.prepare_variant(essen_splits, "control")
    reference = ngram_reference(control, n_notes=20, n_songs=12, seed=3, n_shuffles=4)
    model, losses = select_kneser_ney(control.train, control.validation, control.vocab)
    assert reference.order == model.order and reference.validation_loss == pytest.approx(losses[model.order])
    assert len(reference.songs) == 12 and all(song[:4] == [60, 62, 64, 62] and len(song) == 24 for song in reference.songs)
    assert len(reference.per_song) == 12 and {*MEASURES, "recurring_patterns_excess"} <= set(reference.per_song.columns)
    # Essen tunes move mostly by steps; so do the n-gram's songs (the untrained network's leap by ~12 semitones)
    assert reference.per_song["CMM"].mean() < 4
    assert ngram_reference(control, n_notes=20, n_songs=12, seed=3, n_shuffles=4).songs == reference.songs
    interval = sequences.prepare_variant(essen_splits, "interval")
    decoded = ngram_reference(interval, n_notes=14, n_songs=3, n_shuffles=2).songs
    assert all(song[:4] == [60, 62, 64, 62] and len(song) == 18 for song in decoded)


def _per_song():
    """Two runs; the last checkpoint's songs have recurring patterns 0.1, 0.2 (run 0) and 0.3 (run 1)."""
    return pd.DataFrame({
        "run": [0, 0, 0, 0, 1, 1], "step": [0, 0, 90, 90, 80, 0],
        "recurring_patterns_excess": [0.0, 0.0, 0.1, 0.2, 0.3, 0.0],
    })


def _claim():
    return pd.DataFrame([{"measure": "recurring_patterns_excess", "scale": "long", "initial": 0.0, "final": 0.2,
                          "held_out": 0.4, "gap_closed": 0.5}])


def test_ngram_comparison_by_hand():
    reference = NgramReference(order=3, validation_loss=2.0, songs=[], per_song=pd.DataFrame({"recurring_patterns_excess": [0.05, 0.15]}))
    row = ngram_comparison(_per_song(), _claim(), reference, n_resamples=500).iloc[0]
    # network: mean of 0.1, 0.2, 0.3 = 0.2; n-gram: 0.1 -> a quarter of the gap from 0 to 0.4
    assert row["ngram"] == pytest.approx(0.1) and row["ngram_gap_closed"] == pytest.approx(0.25)
    assert row["difference"] == pytest.approx(0.1) and row["gap_closed"] == 0.5
    # resampled means lie within the extremes: network 0.1..0.3, n-gram 0.05..0.15
    assert -0.05 <= row["difference_ci_low"] < 0.1 < row["difference_ci_high"] <= 0.25


def _comparison(low, high, measure="recurring_patterns_excess"):
    return pd.DataFrame([
        {"measure": "CMM", "scale": "short", "initial": 12.0, "final": 2.4, "ngram": 2.2, "held_out": 2.3,
         "gap_closed": 1.0, "ngram_gap_closed": 1.0, "difference": 0.2, "difference_ci_low": 0.1, "difference_ci_high": 0.3},
        {"measure": measure, "scale": "long", "initial": 0.0, "final": 0.06, "ngram": 0.03, "held_out": 0.3,
         "gap_closed": 0.2, "ngram_gap_closed": 0.1, "difference": (low + high) / 2, "difference_ci_low": low,
         "difference_ci_high": high},
    ])


def test_ngram_findings_on_hand_made_tables():
    labels = {"recurring_patterns_excess": "recurring patterns"}
    more = ngram_findings(_comparison(0.01, 0.05), 4, labels)
    assert more[0] == ("recurring patterns: a Kneser-Ney 4-gram fitted on the same training songs closed 10% of the gap, "
                       "the network at the end of training 20%; network − n-gram +0.03 [0.01, 0.05] over songs.")
    assert len(more) == 2 and more[1].endswith("more long-term structure than the n-gram's in every long-term measure.")
    assert "a memory of 3 notes" in more[1]
    assert ngram_findings(_comparison(-0.01, 0.05), 4)[-1].endswith("no more long-term structure than the n-gram's that these songs can show.")
    # the data below the start: a negative difference is the side of the data
    below = _comparison(-0.05, -0.01).assign(held_out=[2.3, -0.3])
    assert ngram_findings(below, 4)[-1].endswith("in every long-term measure.")
    both = pd.concat([_comparison(0.01, 0.05), _comparison(-0.01, 0.05, "self_similarity_excess").iloc[[1]]])
    assert ngram_findings(both, 4, labels)[-1].endswith("only in recurring patterns.")
    with pytest.raises(ValueError, match="long-term"):
        ngram_findings(_comparison(0.01, 0.05).iloc[[0]], 4)
