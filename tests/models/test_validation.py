"""musiclib.models.training_loop's validation: per-song scoring from a zero state (as the test set
is scored), the unigram plateau, DB12's transposition subset and the plateau-aware patience."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from musiclib.data import sequences
from musiclib.models.training_loop import (
    EarlyStopping,
    song_batches,
    song_scorer,
    songs_cross_entropy,
    transposition_subset,
    validation_songs,
)


def _variant_data(essen_slice, variant: str, songs: int = 250) -> sequences.VariantData:
    """The slice's first ``songs`` melodies; every 5th held out for validation."""
    melodies = essen_slice.melodies[:songs]
    splits = sequences.Splits(train=[m for i, m in enumerate(melodies) if i % 5], validation=melodies[::5], test=[])
    return sequences.prepare_variant(splits, variant)


def test_song_batches_sort_by_length_pad_on_the_right_and_mask_the_padding():
    songs = [np.array([1, 2, 3, 4, 5]), np.array([6, 7]), np.array([8]), np.array([9, 10, 11])]
    # predicted notes 4, 1, 0 (left out), 2; sorted 1, 2 | 4: a third song would make 3 x 4 > 6 padded positions
    batches = song_batches(songs, tokens_per_batch=6)
    assert [inputs.tolist() for inputs in batches.inputs] == [[[6, 0], [9, 10]], [[1, 2, 3, 4]]]
    assert [targets.tolist() for targets in batches.targets] == [[[7, 0], [10, 11]], [[2, 3, 4, 5]]]
    assert [mask.tolist() for mask in batches.masks] == [[[1, 0], [1, 1]], [[1, 1, 1, 1]]]
    assert (batches.num_notes, batches.num_padded) == (7, 8)
    with pytest.raises(ValueError, match="tokens_per_batch must be at least 1"):
        song_batches(songs, tokens_per_batch=0)
    with pytest.raises(ValueError, match="at least one song of two or more tokens"):
        song_batches([np.array([3])])


@pytest.mark.parametrize(
    "variant, jit_compile",
    [("control", "auto"), ("db12", "auto"),
     pytest.param("control", True, marks=pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="XLA on TensorFlow"))],
)
def test_per_song_validation_equals_the_test_sets_scoring(essen_slice, variant, jit_compile):
    """The compiled, padded scorer, with or without XLA, gives score_keras's cross-entropy: every
    note after the first of every song, each song from a zero state."""
    from musiclib.measures.scoring import score_keras
    from musiclib.models.network import build_model

    data = _variant_data(essen_slice, variant, songs=250 if variant == "control" else 40)
    model = build_model("lstm", 2, len(data.vocab), 16, seed=3)
    model.set_weights([3.0 * weights for weights in model.get_weights()])  # peaked predictions: misalignment shows
    songs = data.validation
    batches = song_batches([data.vocab.encode(song) for song in songs], tokens_per_batch=500)  # many batch shapes
    assert len(batches.inputs) > 5
    expected = score_keras(model, data.vocab, songs)
    assert batches.num_notes == int(expected.tokens.sum()) == sum(len(song) - 1 for song in songs)
    scorer = song_scorer(model, jit_compile)
    assert bool(scorer.jit_compile) is (jit_compile is True)
    assert songs_cross_entropy(scorer, batches) == pytest.approx(expected.cross_entropy, abs=1e-5)
    # and not what carrying the state over from song to song gives (the paper's layout, all songs in one row)
    carried = song_batches([np.concatenate([data.vocab.encode(song) for song in songs])])
    assert abs(songs_cross_entropy(scorer, carried) - expected.cross_entropy) > 1e-3


def test_the_plateau_is_the_add_one_unigram_of_the_training_split_on_the_checked_notes(essen_slice):
    from musiclib.measures.ngram import fit_ngram

    control = _variant_data(essen_slice, "control")
    validation = validation_songs(control, transpositions=3)
    unigram = fit_ngram(control.train, control.vocab, 1, smoothing_k=1.0)
    assert validation.plateau == pytest.approx(unigram.cross_entropy(control.validation), abs=1e-9)
    assert validation.check is validation.selection  # control checks every validation song
    assert 2.0 < validation.plateau < np.log(len(control.vocab))  # frequencies help, but far from a melody model

    db12 = _variant_data(essen_slice, "db12", songs=40)
    validation = validation_songs(db12, transpositions=3)
    subset = transposition_subset(db12.validation, 3)
    assert validation.check.num_notes == sum(len(song) - 1 for song in subset)
    assert validation.selection.num_notes == sum(len(song) - 1 for song in db12.validation)
    assert validation.check.num_notes * 4 == pytest.approx(validation.selection.num_notes, rel=0.05)
    db12_unigram = fit_ngram(db12.train, db12.vocab, 1, smoothing_k=1.0)
    assert validation.plateau == pytest.approx(db12_unigram.cross_entropy(subset), abs=1e-9)


def test_an_empty_validation_split_is_refused_with_the_split_named(essen_slice):
    from musiclib.models.settings import TrainingError

    control = _variant_data(essen_slice, "control", songs=20)
    empty = sequences.VariantData(**{**vars(control), "validation": [[60]]})
    with pytest.raises(TrainingError, match="validation split has no song of two or more notes"):
        validation_songs(empty, transpositions=3)


def test_the_transposition_subset_keeps_evenly_spread_versions_of_each_melody():
    first, second = sequences.to_db12([60, 62, 64, 62]), sequences.to_db12([67, 65, 65, 69, 67])
    lowest_first, lowest_second = min(song[0] for song in first), min(song[0] for song in second)
    kept = transposition_subset(first + second, 3)
    assert [song[0] for song in kept] == [lowest_first, lowest_first + 4, lowest_first + 8, lowest_second, lowest_second + 4, lowest_second + 8]
    assert kept[1] == [pitch + 4 - 60 + lowest_first for pitch in [60, 62, 64, 62]]
    # a melody of which validation dropped 5 versions: 7 left, positions 0, 2, 4 of them by pitch
    partial = sorted(first, key=lambda song: song[0])[:7]
    assert [song[0] for song in transposition_subset(partial[::-1], 3)] == [lowest_first, lowest_first + 2, lowest_first + 4]
    assert transposition_subset(first, 12) == sorted(first, key=lambda song: song[0])


def test_patience_counts_only_after_the_run_has_left_the_plateau():
    early = EarlyStopping(patience=2, min_delta=0.01, plateau=2.0, plateau_margin=0.1)
    for val_loss in (2.5, 1.95, 1.95, 1.96):  # above 2.0 - 0.1: still on the plateau, however long
        early.update(val_loss, step=0, epoch=1)
    assert (early.left_plateau, early.checks_since_improvement, early.should_stop) == (False, 0, False)
    assert early.best_val_loss == 1.95
    assert early.plateau_epochs == 0
    early.update(1.9, step=5, epoch=5)  # 2.0 - 0.1 reached: left, and the first reference
    assert (early.left_plateau, early.checks_since_improvement, early.reference_loss) == (True, 0, 1.9)
    assert early.plateau_epochs == 4  # epochs 1 to 4 on the plateau: min_epochs counts from epoch 5
    early.update(1.895, step=6, epoch=6)  # better, but by less than min_delta: counts
    assert (early.checks_since_improvement, early.best_val_loss, early.best_epoch) == (1, 1.895, 6)
    early.update(1.95, step=7, epoch=7)  # back above the plateau's margin: still counts (leaving is for good)
    assert early.should_stop and early.left_plateau
    unbounded = EarlyStopping(patience=1, min_delta=0.0)  # no plateau: every check counts, as before
    unbounded.update(5.0, step=1, epoch=1)
    unbounded.update(5.0, step=2, epoch=2)
    assert unbounded.should_stop and unbounded.plateau_epochs == 0
