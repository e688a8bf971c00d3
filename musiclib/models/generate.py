"""Sampling melodies from a trained model, all songs at once.

The paper's ``sample.py`` (rnnMusicSeqGenerator 1.0): feed the seed notes except the last to warm up
the recurrent state, then, starting from the last seed note, repeatedly turn the logits into a
softmax and pick the next note, either by roulette-wheel selection (``searchsorted(cumsum(p),
rand() * sum(p))``, the paper's default) or by argmax (``--selection_method argmax``, or sample.py's ``max``); the song returned
includes the seed. The paper sampled one song at a time; here all ``n_songs`` advance together, one
batched call of a :class:`musiclib.models.network.StepModel` per note.

Units: pitches are MIDI numbers (60 = C4), intervals semitones, temperature divides the logits.
"""

from __future__ import annotations

import json
import os
import weakref
from pathlib import Path
from typing import Iterable

import keras
import numpy as np

from musiclib.common.checks import UsageError, positive_int
from musiclib.common.files import write_text_atomic
from musiclib.data.sequences import (
    MIDI_RANGE,
    VARIANTS,
    UnknownTokenError,
    Vocabulary,
    from_intervals,
)
from musiclib.models.network import StepModel

PAPER_SEEDS = {"control": "60 62 64 62", "db12": "60 62 64 62", "interval": "60 2 2 -2"}
"""The paper's seeds: C4 D4 E4 D4; for the interval variant the start pitch 60, then +2, +2, -2."""

METHODS = ("roulette", "argmax")
"""Note selection: sample from the softmax (the paper's roulette wheel) or take the most likely."""

SONGS_FILE = "songs.json"


class GenerationError(UsageError):
    """A seed, selection method or temperature that cannot generate (the message names it)."""

_STEP_MODELS: "weakref.WeakKeyDictionary[keras.Model, StepModel]" = weakref.WeakKeyDictionary()


def parse_seed(seed: str | Iterable[int]) -> list[int]:
    """The integers of a seed.

    Parameters
    ----------
    seed : str or iterable of int
        ``"60 62 64 62"`` (separated by spaces or commas) or a sequence of ints.

    Returns
    -------
    list of int
        The seed's tokens (MIDI pitches, or a start pitch then intervals in semitones).

    Raises
    ------
    ValueError
        If the seed is empty or holds something that is not an integer (named in the message).
    """
    parts = seed.replace(",", " ").split() if isinstance(seed, str) else list(seed)
    numbers = []
    for part in parts:
        try:
            number = int(part)
        except (TypeError, ValueError):
            raise GenerationError(f"seed {seed!r}: {part!r} is not an integer") from None
        if isinstance(part, float) and part != number:
            raise GenerationError(f"seed {seed!r}: {part!r} is not an integer")
        numbers.append(number)
    if not numbers:
        raise GenerationError(f"seed {seed!r} is empty; give at least one note, e.g. {PAPER_SEEDS['control']!r}")
    return numbers


def generate(
    run_or_model,
    seed: str | Iterable[int],
    n_notes: int = 30,
    n_songs: int = 100,
    method: str = "roulette",
    temperature: float = 1.0,
    rng: np.random.Generator | int | None = None,
    *,
    vocab: Vocabulary | None = None,
    variant: str | None = None,
    weights: str = "best",
) -> list[list[int]]:
    """Sample ``n_songs`` melodies of ``n_notes`` new notes each after ``seed``, all in one batched pass.

    Parameters
    ----------
    run_or_model : musiclib.models.train.Run or keras.Model
        A run (its model, vocabulary and variant are used) or a Keras model made by
        :func:`musiclib.models.network.build_model` (then ``vocab`` and ``variant`` are needed).
    seed : str or iterable of int
        The seed's tokens, e.g. ``"60 62 64 62"`` (MIDI pitches for the control and db12 variants;
        for interval, the start pitch then intervals in semitones: ``"60 2 2 -2"``). All but the
        last token warm up the state; sampling starts from the last one.
    n_notes : int, optional
        Notes generated per song after the seed.
    n_songs : int, optional
        Songs generated (together, as one batch).
    method : {"roulette", "argmax"}, optional
        ``"roulette"``: sample from the softmax (the paper's default); ``"argmax"``: the most likely
        token (the original ``sample.py`` called it ``max``; the command line accepts both).
    temperature : float, optional
        The logits :math:`z` are divided by it before the softmax,
        :math:`p_k = e^{z_k / T} / \\sum_j e^{z_j / T}` (> 0; 1 = the model's own distribution,
        towards 0 = argmax, large = uniform).
    rng : numpy.random.Generator or int or None, optional
        A generator or an int seed (same seed, same songs); None draws a fresh one.
    vocab : Vocabulary, optional
        Only with a bare model: its vocabulary.
    variant : {"control", "interval", "db12"}, optional
        Only with a bare model: its data variant.
    weights : {"best", "final"}, optional
        With a run: the weights of its lowest validation loss (``"best"``, the default) or those
        after its last step (``"final"``); see :meth:`musiclib.models.train.Run.model_for`.

    Returns
    -------
    list of list of int
        ``n_songs`` lists of MIDI pitches, each starting with the seed's pitches (interval songs
        decoded from the start pitch), ``len(seed pitches) + n_notes`` long.

    Raises
    ------
    musiclib.data.sequences.UnknownTokenError
        If a seed token is not in the vocabulary (named).
    ValueError
        For a bad ``seed``, ``n_notes``, ``n_songs``, ``method`` or ``temperature``, a seed outside
        MIDI 0..127, or missing ``vocab`` / ``variant`` with a bare model.

    Notes
    -----
    Roulette-wheel selection as the paper's ``sample.py``: the first index where the cumulative
    weights reach a uniform point in :math:`(0, \\sum_k w_k]`. The paper's interval decoding reset a
    pitch that fell to 12 or below to 60 and dropped that note. Here no note is dropped: an
    interval that would take the song outside MIDI 0..127 is never sampled (its probability is set
    to 0), so every song is exactly ``n_notes`` intervals the model chose, and the interval fed back
    to the model is the one the song contains.

    References
    ----------
    :cite:`garciavalencia2020sequence`
    """
    model, vocab, variant = _model_vocab_variant(run_or_model, vocab, variant, weights)
    positive_int(n_notes, "n_notes")
    positive_int(n_songs, "n_songs")
    if method not in METHODS:
        raise GenerationError(f"method {method!r} is not one of {', '.join(METHODS)}")
    if not (np.isfinite(temperature) and temperature > 0):
        raise GenerationError(f"temperature must be a positive number, got {temperature!r}")
    start_pitch, seed_tokens = _split_seed(parse_seed(seed), variant)
    seed_ids = _encode_seed(seed_tokens, vocab, seed)
    rng = np.random.default_rng(rng)

    step = _step_model(model)
    states = step.zero_states(n_songs)
    for token_id in seed_ids[:-1]:
        _, *states = step.predict_on_batch([np.full((n_songs, 1), token_id, dtype="int32"), *states])

    tokens = np.asarray(vocab.tokens)
    current_ids = np.full(n_songs, seed_ids[-1], dtype="int32")
    current_pitches = np.full(n_songs, from_intervals(start_pitch, seed_tokens)[-1]) if start_pitch is not None else None
    generated = np.empty((n_songs, n_notes), dtype=np.int64)
    for note in range(n_notes):
        logits, *states = step.predict_on_batch([current_ids[:, None], *states])
        logits = np.asarray(logits, dtype=np.float64) / temperature
        if current_pitches is not None:
            logits = _forbid_leaving_midi_range(logits, current_pitches, tokens, note)
        current_ids = _select(logits, method, rng).astype("int32")
        generated[:, note] = tokens[current_ids]
        if current_pitches is not None:
            current_pitches = current_pitches + generated[:, note]

    if start_pitch is None:
        return [list(seed_tokens) + song.tolist() for song in generated]
    return [from_intervals(start_pitch, list(seed_tokens) + song.tolist()) for song in generated]


def save_songs(
    songs: list[list[int]], output_dir: str | os.PathLike, *, details: dict | None = None
) -> list[Path]:
    """Write each song as a MIDI file and all of them in ``songs.json``, each file atomically.

    Parameters
    ----------
    songs : list of list of int
        MIDI pitches per song.
    output_dir : str or path
        The folder (created if needed).
    details : dict, optional
        JSON-able facts to keep with the songs (seed, model, ...).

    Returns
    -------
    list of Path
        ``song_000.mid``, ``song_001.mid``, ... (one beat per note, tempo 120, as the paper);
        ``songs.json`` holds ``{**details, "songs": [...]}``.

    Raises
    ------
    musiclib.outputs.sound.RenderError
        For a pitch outside MIDI 0..127.
    """
    from musiclib.outputs.sound import write_midi

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    digits = max(3, len(str(len(songs) - 1)))
    paths = [write_midi(song, output_dir / f"song_{index:0{digits}d}.mid") for index, song in enumerate(songs)]
    payload = json.dumps({**(details or {}), "songs": [[int(pitch) for pitch in song] for song in songs]})
    write_text_atomic(output_dir / SONGS_FILE, payload + "\n")
    return paths


def _model_vocab_variant(run_or_model, vocab, variant, weights: str = "best") -> tuple[keras.Model, Vocabulary, str]:
    if isinstance(run_or_model, keras.Model):
        if vocab is None or variant is None:
            raise ValueError("generating from a bare model needs vocab= and variant= (a train.Run carries both)")
        model = run_or_model
    else:
        if vocab is not None or variant is not None:
            raise ValueError("vocab= and variant= are taken from the run; pass them only with a bare model")
        try:
            model = run_or_model.model_for(weights)
            vocab, variant = run_or_model.vocab, run_or_model.config.variant
        except AttributeError:
            raise ValueError(
                f"run_or_model must be a musiclib.models.train.Run or a keras.Model, got {type(run_or_model).__name__}"
            ) from None
    if variant not in VARIANTS:
        raise ValueError(f"variant {variant!r} is not one of {', '.join(VARIANTS)}")
    return model, vocab, variant


def _split_seed(numbers: list[int], variant: str) -> tuple[int | None, list[int]]:
    """(start pitch or None, seed tokens), checking that the seed's pitches are MIDI pitches."""
    if variant != "interval":
        pitches, start_pitch, seed_tokens = numbers, None, numbers
    else:
        if len(numbers) < 2:
            raise GenerationError(
                f"an interval seed is a start pitch then at least one interval, e.g. {PAPER_SEEDS['interval']!r}; "
                f"got {numbers}"
            )
        start_pitch, seed_tokens = numbers[0], numbers[1:]
        pitches = from_intervals(start_pitch, seed_tokens)
    outside = [pitch for pitch in pitches if pitch not in MIDI_RANGE]
    if outside:
        raise GenerationError(f"seed {numbers} reaches pitch {outside[0]}, outside MIDI 0..127")
    return start_pitch, seed_tokens


def _encode_seed(seed_tokens: list[int], vocab: Vocabulary, seed) -> np.ndarray:
    try:
        return vocab.encode(seed_tokens)
    except UnknownTokenError as error:
        error.args = (f"seed {seed!r}: {error.args[0]}; choose seed notes the model was trained on",)
        raise


def _step_model(model: keras.Model) -> StepModel:
    """The model's :class:`StepModel`, made once per model (its compiled predict step is reused) and
    given the model's current weights at every use (they may have changed since)."""
    step = _STEP_MODELS.get(model)
    if step is None:
        step = _STEP_MODELS[model] = StepModel(model)
    else:
        step.copy_weights(model)
    return step


def _forbid_leaving_midi_range(logits, current_pitches, tokens, note: int):
    """Set to -inf the logits of intervals that would take a song outside MIDI 0..127."""
    next_pitches = current_pitches[:, None] + tokens[None, :]
    allowed = (next_pitches >= MIDI_RANGE.start) & (next_pitches < MIDI_RANGE.stop)
    stuck = ~allowed.any(axis=1)
    if stuck.any():
        song = int(np.flatnonzero(stuck)[0])
        raise GenerationError(
            f"song {song} is at pitch {int(current_pitches[song])} before generated note {note + 1} and no interval "
            f"in the vocabulary ({int(tokens[0])}..{int(tokens[-1])}) keeps it within MIDI 0..127"
        )
    return np.where(allowed, logits, -np.inf)


def _select(logits: np.ndarray, method: str, rng: np.random.Generator) -> np.ndarray:
    """One token id per row of ``logits`` [songs, vocab]: argmax or roulette-wheel selection."""
    if method == "argmax":
        return np.argmax(logits, axis=1)
    weights = np.exp(logits - logits.max(axis=1, keepdims=True))
    cumulative = np.cumsum(weights, axis=1)
    # A point in (0, total]: searchsorted's first index with cumulative >= point has weight > 0.
    points = (1.0 - rng.random(len(logits))) * cumulative[:, -1]
    chosen = (cumulative < points[:, None]).sum(axis=1)
    return np.minimum(chosen, logits.shape[1] - 1)
