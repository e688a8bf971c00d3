r"""A same-objective reference without long memory: songs of a Kneser-Ney n-gram model.

An interpolated Kneser-Ney model (:mod:`musiclib.measures.ngram`) is fitted on the study's
training songs by the objective the network is trained on (it minimises cross-entropy on the
training notes, with smoothing), its order chosen on the validation songs, and sampled with the
network's seed notes. It remembers ``order - 1`` notes, fewer than a 4-note pattern needs to
recur a phrase later by anything but chance and habit. Whatever long-term structure its songs
show, a low cross-entropy buys without long memory; the network's songs are compared with
theirs on the same measures.

Notebook: 05_cross_entropy
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from musiclib.chapters.cross_entropy.claim import percent


@dataclass
class NgramReference:
    """Songs of the Kneser-Ney model and their measures.

    Attributes
    ----------
    order : int
        The model's n-gram order (chosen on the validation songs).
    validation_loss : float
        Its cross-entropy on the validation songs, nats per note.
    songs : list of list of int
        MIDI pitches, seed notes included.
    per_song : pandas.DataFrame
        :func:`musiclib.measures.structure.structure_measures` of the songs.
    """

    order: int
    validation_loss: float
    songs: list
    per_song: pd.DataFrame


def ngram_reference(
    variant_data, *, n_notes: int, n_songs: int, seed: int = 0, seed_notes: str | None = None, n_shuffles: int = 20
) -> NgramReference:
    """Fit the Kneser-Ney model on the training songs, sample songs after the seed notes, measure them.

    Parameters
    ----------
    variant_data : musiclib.data.sequences.VariantData
        The study's variant: training songs (fitted on), validation songs (choose the order),
        vocabulary.
    n_notes : int
        Notes sampled per song after the seed notes (as the network's songs).
    n_songs : int
        Songs.
    seed : int
        Seed of the sampling and of the shuffles of the long-term measures.
    seed_notes : str, optional
        The seed melody; default the paper's (``musiclib.models.generate.PAPER_SEEDS``); for the
        interval variant a start pitch then intervals.
    n_shuffles : int
        Shuffles per song for the long-term measures' null (as
        :func:`musiclib.chapters.cross_entropy.along_training.measures_along_training`).

    Returns
    -------
    NgramReference
    """
    from musiclib.data.sequences import from_intervals
    from musiclib.measures.ngram import sample_kneser_ney, select_kneser_ney
    from musiclib.measures.structure import structure_measures
    from musiclib.models.generate import PAPER_SEEDS, parse_seed

    model, losses = select_kneser_ney(variant_data.train, variant_data.validation, variant_data.vocab)
    numbers = parse_seed(seed_notes or PAPER_SEEDS[variant_data.variant])
    if variant_data.variant == "interval":
        start_pitch, seed_tokens = numbers[0], numbers[1:]
        songs = [from_intervals(start_pitch, song) for song in sample_kneser_ney(model, seed_tokens, n_notes, n_songs, seed)]
    else:
        songs = sample_kneser_ney(model, numbers, n_notes, n_songs, seed)
    return NgramReference(
        order=model.order,
        validation_loss=losses[model.order],
        songs=songs,
        per_song=structure_measures(songs, n_shuffles=n_shuffles, seed=seed),
    )


def ngram_comparison(
    per_song: pd.DataFrame,
    claim: pd.DataFrame,
    reference: NgramReference,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    r"""The network's songs at the end of training next to the n-gram's, per measure.

    Parameters
    ----------
    per_song : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.measures_along_training` of every
        run (the songs of each run's last checkpoint are used).
    claim : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.claim.claim_table` (its measures, ``scale``,
        ``initial``, ``final``, ``held_out`` and ``gap_closed``).
    reference : NgramReference
    confidence : float
        Coverage of the bootstrap interval.
    n_resamples : int
        Bootstrap resamples.
    seed : int
        Seed of the resampling.

    Returns
    -------
    pandas.DataFrame
        One row per measure of ``claim``: ``measure``, ``scale``, ``initial``, ``final`` (network,
        last checkpoint, mean over runs), ``ngram`` (mean over the n-gram's songs), ``held_out``,
        ``gap_closed`` (network), ``ngram_gap_closed``, ``difference`` (network - n-gram, over
        songs), ``difference_ci_low``, ``difference_ci_high``.

    Notes
    -----
    The n-gram's share of the gap is :math:`(m_{KN} - m_0) / (m_D - m_0)`, with the untrained
    network's :math:`m_0`, so the two shares are on one scale. The interval of the difference is
    a percentile bootstrap over songs :cite:`efron1993bootstrap`, the network's final songs of all
    runs and the n-gram's resampled separately.
    """
    last_steps = per_song.groupby("run")["step"].transform("max")
    network = per_song[per_song["step"] == last_steps]
    rng = np.random.default_rng(seed)
    network_picks = rng.integers(0, len(network), size=(n_resamples, len(network)))
    ngram_picks = rng.integers(0, len(reference.per_song), size=(n_resamples, len(reference.per_song)))
    tails = [(1 - confidence) / 2, (1 + confidence) / 2]
    rows = []
    for row in claim.itertuples():
        ours = network[row.measure].to_numpy(dtype=np.float64)
        theirs = reference.per_song[row.measure].to_numpy(dtype=np.float64)
        low, high = np.quantile(ours[network_picks].mean(axis=1) - theirs[ngram_picks].mean(axis=1), tails)
        ngram = float(theirs.mean())
        rows.append(
            {
                "measure": row.measure, "scale": row.scale, "initial": row.initial, "final": row.final, "ngram": ngram,
                "held_out": row.held_out, "gap_closed": row.gap_closed,
                "ngram_gap_closed": (ngram - row.initial) / (row.held_out - row.initial),
                "difference": float(ours.mean() - ngram), "difference_ci_low": float(low),
                "difference_ci_high": float(high),
            }
        )  # fmt: skip
    return pd.DataFrame(rows)


def ngram_findings(comparison: pd.DataFrame, order: int, labels: dict | None = None) -> list[str]:
    """Sentences on the n-gram reference: what it is, each long-term measure, the conclusion.

    Parameters
    ----------
    comparison : pandas.DataFrame
        :func:`ngram_comparison` (or a hand-made table with its columns).
    order : int
        The n-gram's order.
    labels : dict, optional
        Measure column -> name for people.

    Returns
    -------
    list of str
        One sentence per long-term measure (both shares of the gap closed and the difference
        with its interval), then whether the network's long memory added long-term structure:
        yes when every long-term difference's interval lies on the side of the data, no when
        every one lies on the other side or includes 0 ("not shown").
    """
    labels = labels or {}
    long = comparison[comparison["scale"] == "long"]
    if long.empty:
        raise ValueError("comparison needs long-term measures (column 'scale')")
    towards_data = np.sign(long["held_out"] - long["initial"])
    beyond = ((long["difference_ci_low"] > 0) & (towards_data > 0)) | ((long["difference_ci_high"] < 0) & (towards_data < 0))
    sentences = [
        f"{labels.get(row.measure, row.measure)}: a Kneser-Ney {order}-gram fitted on the same training songs "
        f"closed {percent(row.ngram_gap_closed)} of the gap, the network at the end of training "
        f"{percent(row.gap_closed)}; network − n-gram {row.difference:+.3g} "
        f"[{row.difference_ci_low:.3g}, {row.difference_ci_high:.3g}] over songs."
        for row in long.itertuples()
    ]
    if beyond.all():
        conclusion = "more long-term structure than the n-gram's in every long-term measure"
    elif beyond.any():
        shown = ", ".join(labels.get(measure, measure) for measure in long[beyond]["measure"])
        conclusion = f"more long-term structure than the n-gram's only in {shown}"
    else:
        conclusion = "no more long-term structure than the n-gram's that these songs can show"
    sentences.append(
        f"With the same objective and a memory of {order - 1} notes, the n-gram is the yardstick for what low "
        f"cross-entropy gives without long memory: the network's songs have {conclusion}."
    )
    return sentences

