"""The runs of the checkpoint study of paper 3 (chapter 5): does a lower training loss make better melodies?

One model is trained with frequent checkpoints (:func:`run_cross_entropy_study`); songs are
generated from every checkpoint with the same seed and random stream and scored with the
tonality metrics and two plain measures of randomness (:func:`checkpoint_study`); Spearman rank
correlations relate the checkpoint loss to each measure (:func:`rank_correlations`).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from musiclib.grid import ExperimentData, GridPoint, load_data, train_config
from musiclib.profiles import Profile

CROSS_ENTROPY_DIR = "cross_entropy"

log = logging.getLogger(__name__)


def cross_entropy_config(profile: Profile):
    """The training settings of the checkpoint study.

    Parameters
    ----------
    profile : musiclib.profiles.Profile

    Returns
    -------
    musiclib.train.TrainConfig
        The grid's recipe for the study's model, with ``[cross_entropy]`` batch size, epochs and
        checkpoint interval.
    """
    study = profile.cross_entropy
    config = train_config(profile, GridPoint(study.variant, study.cell, study.num_layers))
    return replace(
        config, batch_size=study.batch_size, num_epochs=study.num_epochs, save_every=study.save_every,
        checkpoint_steps=study.checkpoint_steps, patience=0,  # a fixed length: the study follows training to its end
    )


def cross_entropy_run_dir(runs_dir: str | Path, profile: Profile) -> Path:
    """The study's run folder: ``runs_dir/<profile>/cross_entropy/<cell>-<layers>``.

    Parameters
    ----------
    runs_dir : path
    profile : musiclib.profiles.Profile

    Returns
    -------
    pathlib.Path
    """
    study = profile.cross_entropy
    return Path(runs_dir) / profile.name / CROSS_ENTROPY_DIR / f"{study.cell}-{study.num_layers}"


def run_cross_entropy_study(
    profile: Profile, runs_dir: str | Path, *, data: ExperimentData | None = None, progress: bool = False
):
    """Train (or reuse) the study's model with frequent checkpoints.

    Parameters
    ----------
    profile : musiclib.profiles.Profile
    runs_dir : path
    data : musiclib.grid.ExperimentData, optional
        Default: :func:`musiclib.grid.load_data` of the profile.
    progress : bool
        Show progress bars.

    Returns
    -------
    musiclib.train.Run

    References
    ----------
    :cite:t:`garciavalencia2020crossentropy`
    """
    from musiclib.train import train

    data = data or load_data(profile, progress=progress)
    variant_data = data.variants[profile.cross_entropy.variant]
    run = train(cross_entropy_config(profile), variant_data, cross_entropy_run_dir(runs_dir, profile), progress=progress)
    study, epochs = profile.cross_entropy, run.history["epochs"]
    log.info("checkpoint study run ready: %s %s, %d layers (training loss %.3f nats/note, %.0f s of training)",
             study.variant, study.cell, study.num_layers, epochs[-1]["train_loss"],
             sum(epoch.get("seconds", 0.0) for epoch in epochs))
    return run


def pitch_entropy(pitches: Sequence[int]) -> float:
    r"""Shannon entropy of a melody's pitch distribution, a measure of randomness.

    .. math::

        H = -\sum_p \hat P(p) \ln \hat P(p),

    where :math:`\hat P(p)` is the share of the melody's notes with pitch :math:`p`: 0 for one
    repeated pitch, :math:`\ln n` for :math:`n` equally used pitches.

    Parameters
    ----------
    pitches : sequence of int
        MIDI pitches.

    Returns
    -------
    float
        Nats.
    """
    _, counts = np.unique(np.asarray(pitches), return_counts=True)
    probabilities = counts / counts.sum()
    return float(-(probabilities * np.log(probabilities)).sum())


def pitch_range(pitches: Sequence[int]) -> int:
    """Highest minus lowest pitch of a melody.

    Parameters
    ----------
    pitches : sequence of int
        MIDI pitches.

    Returns
    -------
    int
        Semitones.
    """
    return int(max(pitches) - min(pitches))


CHECKPOINT_MEASURES = ("CMM", "LM", "CENTR", "pitch_entropy", "pitch_range")


def checkpoint_study(run, profile: Profile, *, seed: int = 0) -> tuple[pd.DataFrame, dict[int, list[list[int]]]]:
    """Songs from every checkpoint of a run with the same seed, and their measures.

    For each checkpoint (:func:`musiclib.train.list_checkpoints`), ``songs_per_checkpoint`` songs
    of ``n_notes`` notes are generated from the paper's seed with the same random stream, so that
    only the weights differ.

    Parameters
    ----------
    run : musiclib.train.Run
        :func:`run_cross_entropy_study`.
    profile : musiclib.profiles.Profile
    seed : int

    Returns
    -------
    table : pandas.DataFrame
        Columns step, loss (training cross-entropy of the checkpoint, nats per token) and the mean
        over its songs of each of :data:`CHECKPOINT_MEASURES`.
    songs : dict of int to list of list of int
        The songs (MIDI pitches) by step.

    Raises
    ------
    ValueError
        When the run has no checkpoints (lower ``[cross_entropy] save_every``).

    References
    ----------
    :cite:t:`garciavalencia2020crossentropy`
    """
    from musiclib.generate import PAPER_SEEDS, generate
    from musiclib.metrics import evaluate
    from musiclib.train import list_checkpoints, load_checkpoint_model

    variant = profile.cross_entropy.variant
    checkpoints = list_checkpoints(run.run_dir)
    if not checkpoints:
        raise ValueError(f"run {run.run_dir} has no checkpoints; lower cross_entropy.save_every in the profile")
    rows, songs_by_step = [], {}
    for checkpoint in checkpoints:
        songs = generate(
            load_checkpoint_model(checkpoint),
            PAPER_SEEDS[variant],
            n_notes=profile.generation.n_notes,
            n_songs=profile.generation.songs_per_checkpoint,
            rng=np.random.default_rng(seed),
            vocab=run.vocab,
            variant=variant,
        )
        measures = evaluate(songs)
        measures["pitch_entropy"] = [pitch_entropy(song) for song in songs]
        measures["pitch_range"] = [pitch_range(song) for song in songs]
        rows.append({"step": checkpoint.step, "loss": checkpoint.loss, **measures[list(CHECKPOINT_MEASURES)].mean().to_dict()})
        songs_by_step[checkpoint.step] = songs
    return pd.DataFrame(rows), songs_by_step


def rank_correlations(table: pd.DataFrame, *, against: str = "loss") -> pd.DataFrame:
    r"""Spearman rank correlation of the checkpoint loss with each measure.

    .. math::

        \rho = 1 - \frac{6 \sum_i d_i^2}{n (n^2 - 1)}

    for :math:`n` checkpoints without ties, :math:`d_i` the difference of the ranks of checkpoint
    :math:`i` (scipy's :func:`scipy.stats.spearmanr`, which handles ties). A positive
    :math:`\rho` means the measure falls as the loss falls.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`checkpoint_study`.
    against : str
        The column the measures are correlated with.

    Returns
    -------
    pandas.DataFrame
        Columns measure, spearman_rho, p_value, n; NaN where a measure or ``against`` is
        constant.
    """
    from scipy.stats import spearmanr

    rows = []
    for measure in CHECKPOINT_MEASURES:
        if table[measure].nunique() < 2 or table[against].nunique() < 2:
            rho, p_value = float("nan"), float("nan")
        else:
            rho, p_value = spearmanr(table[against], table[measure])
        rows.append({"measure": measure, "spearman_rho": float(rho), "p_value": float(p_value), "n": len(table)})
    return pd.DataFrame(rows)


def listening_steps(table: pd.DataFrame) -> list[tuple[int, float]]:
    """The first, a middle and the last checkpoint, as the paper's "melody evolution" figure.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`checkpoint_study`.

    Returns
    -------
    list of (int, float)
        ``(step, training loss in nats per note)`` of each, in training order, without repeats.
    """
    picked = sorted({0, len(table) // 2, len(table) - 1})
    return [(int(table["step"].iloc[i]), float(table["loss"].iloc[i])) for i in picked]
