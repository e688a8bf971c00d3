"""The runs and tables of the cross-entropy study of paper 3 (chapter 5).

:func:`run_cross_entropy_seeds` trains (or reuses) one model per seed of ``[cross_entropy]``,
checkpointed at :func:`musiclib.chapters.cross_entropy.along_training.checkpoint_schedule` of its training length;
:func:`cross_entropy_study` turns those runs into every table of the chapter with the
functions of :mod:`musiclib.chapters.cross_entropy.along_training`, :mod:`musiclib.measures.structure`,
:mod:`musiclib.chapters.cross_entropy.claim` and :mod:`musiclib.chapters.cross_entropy.ngram_reference`.

Notebook: 05_cross_entropy
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from musiclib.chapters.cross_entropy.ngram_reference import NgramReference
from musiclib.experiments.grid import ExperimentData, GridPoint, load_data, train_config, train_runs
from musiclib.experiments.profiles import Profile

CROSS_ENTROPY_DIR = "cross_entropy"

log = logging.getLogger(__name__)


def cross_entropy_config(profile: Profile, variant_data, seed: int):
    """The training settings of one run of the study.

    Parameters
    ----------
    profile : musiclib.experiments.profiles.Profile
    variant_data : musiclib.data.sequences.VariantData
        The study's variant (its training sequences decide the number of training steps).
    seed : int
        The run's seed (weights and batch order).

    Returns
    -------
    musiclib.models.train.TrainConfig
        The grid's recipe for the study's model with ``[cross_entropy]`` batch size and epochs,
        no early stopping and no restart from another seed (the study follows each seed's
        training to its end, as the paper's fixed-epoch recipe did), checkpoints at
        :func:`musiclib.chapters.cross_entropy.along_training.checkpoint_schedule` of the run's training steps and no
        others (``save_every`` is the whole run).
    """
    from musiclib.chapters.cross_entropy.along_training import (
        checkpoint_schedule,
        training_steps,
    )

    study = profile.cross_entropy
    config = replace(
        train_config(profile, GridPoint(study.variant, study.cell, study.num_layers)),
        batch_size=study.batch_size, num_epochs=study.num_epochs, seed=seed, patience=0, plateau_budget=0,
    )
    total = training_steps(config, variant_data)
    return replace(config, save_every=total, checkpoint_steps=tuple(checkpoint_schedule(total)))


def cross_entropy_run_dir(runs_dir: str | Path, profile: Profile, seed: int) -> Path:
    """One run's folder: ``runs_dir/<profile>/cross_entropy/<cell>-<layers>-seed-<seed>``.

    Parameters
    ----------
    runs_dir : path
    profile : musiclib.experiments.profiles.Profile
    seed : int

    Returns
    -------
    pathlib.Path
    """
    study = profile.cross_entropy
    return Path(runs_dir) / profile.name / CROSS_ENTROPY_DIR / f"{study.cell}-{study.num_layers}-seed-{seed}"


def run_cross_entropy_seeds(
    profile: Profile, runs_dir: str | Path, *, data: ExperimentData | None = None, progress: bool = False
) -> dict:
    """Train (or reuse) the study's model once per seed of ``[cross_entropy] seeds``.

    The runs train as the grid's do (:func:`musiclib.experiments.grid.train_runs`: two at a time
    with ``[grid] workers = 2``); a finished run is loaded, an interrupted one resumed. One console
    line per run goes to the ``musiclib.chapters.cross_entropy.runs`` logger.

    Parameters
    ----------
    profile : musiclib.experiments.profiles.Profile
    runs_dir : path
    data : musiclib.experiments.grid.ExperimentData, optional
        Default: :func:`musiclib.experiments.grid.load_data` of the profile.
    progress : bool
        Show progress bars.

    Returns
    -------
    dict of int to musiclib.models.train.Run
        The runs by seed, in the profile's order.

    Raises
    ------
    musiclib.models.settings.TrainingError
        A run failed (after the others finished; the error names it).

    References
    ----------
    :cite:t:`garciavalencia2020crossentropy`
    """
    from musiclib.models.settings import TrainingError
    from musiclib.models.train import COMPLETE_FILE

    data = data or load_data(profile, progress=progress)
    study = profile.cross_entropy
    variant_data = data.variants[study.variant]
    tasks = [
        (GridPoint(study.variant, study.cell, study.num_layers, seed), cross_entropy_config(profile, variant_data, seed),
         variant_data, cross_entropy_run_dir(runs_dir, profile, seed))
        for seed in study.seeds
    ]  # fmt: skip
    reused = {task[0]: (task[3] / COMPLETE_FILE).exists() for task in tasks}
    result = train_runs(tasks, profile, runs_dir)
    if result.failed:
        raise TrainingError("cross-entropy runs failed: " + "; ".join(
            f"{point.label}: {error}" for point, error in result.failed.items()))
    for number, (point, run) in enumerate(result.runs.items(), start=1):
        epochs = run.history["epochs"]
        log.info("cross-entropy run %d/%d %s: %s (%d steps, training loss %.3f nats/note, %.0f s)",
                 number, len(tasks), "reused" if reused[point] else "trained", point.label, run.summary.get("steps", 0),
                 epochs[-1]["train_loss"], sum(epoch.get("seconds", 0.0) for epoch in epochs))
    return {point.seed: run for point, run in result.runs.items()}


@dataclass
class CrossEntropyStudy:
    """Every table of chapter 5.

    Attributes
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.loss_along_training` of every run (column ``run``: its seed).
    songs : dict
        seed -> step -> songs (MIDI pitches, seed notes included).
    per_song : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.measures_along_training` of every run.
    held_out : pandas.DataFrame
        :func:`musiclib.measures.structure.reference_measures` of the held-out (test) songs cut to the
        generated songs' length.
    summary, per_run, across, late : pandas.DataFrame
        :func:`~musiclib.chapters.cross_entropy.along_training.checkpoint_summary`,
        :func:`~musiclib.chapters.cross_entropy.along_training.trend_per_run`,
        :func:`~musiclib.chapters.cross_entropy.along_training.trend_across_runs`,
        :func:`~musiclib.chapters.cross_entropy.along_training.late_trends` (the last
        :data:`~musiclib.chapters.cross_entropy.claim.LATE_CHECKPOINTS` checkpoints).
    gaps : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.claim.gap_closed_per_run`.
    difference : dict
        :func:`musiclib.chapters.cross_entropy.claim.gap_difference`.
    claim : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.claim.claim_table`.
    ngram : musiclib.chapters.cross_entropy.ngram_reference.NgramReference
        Songs of the Kneser-Ney model, as many as the network's songs of one checkpoint over all runs.
    ngram_comparison : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.ngram_reference.ngram_comparison`.
    evolution : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.melody_evolution_checkpoints` of the first run.
    """

    losses: pd.DataFrame
    songs: dict
    per_song: pd.DataFrame
    held_out: pd.DataFrame
    summary: pd.DataFrame
    per_run: pd.DataFrame
    across: pd.DataFrame
    late: pd.DataFrame
    gaps: pd.DataFrame
    difference: dict
    claim: pd.DataFrame
    ngram: NgramReference
    ngram_comparison: pd.DataFrame
    evolution: pd.DataFrame


def cross_entropy_study(runs: dict, profile: Profile, data: ExperimentData, *, seed: int = 0) -> CrossEntropyStudy:
    """The chapter's analysis of the runs of :func:`run_cross_entropy_seeds`.

    The loss of every checkpoint on the fixed validation songs, ``songs_per_checkpoint`` songs
    of ``n_notes`` notes per checkpoint (same seed notes and random stream everywhere), their
    short- and long-term measures against held-out test songs of the same length, the trends
    per run, across runs and at the end of training, the shares of the gap closed and the
    verdict table, the Kneser-Ney reference songs and the melody-evolution checkpoints.

    Parameters
    ----------
    runs : dict of int to musiclib.models.train.Run
        By seed (at least 2 runs for the across-run trend).
    profile : musiclib.experiments.profiles.Profile
    data : musiclib.experiments.grid.ExperimentData
    seed : int
        Seed of the generation's random stream, the shuffle nulls and the bootstrap.

    Returns
    -------
    CrossEntropyStudy
    """
    from musiclib.chapters.cross_entropy.along_training import (
        checkpoint_summary,
        late_trends,
        loss_along_training,
        measures_along_training,
        melody_evolution_checkpoints,
        songs_along_training,
        trend_across_runs,
        trend_per_run,
    )
    from musiclib.chapters.cross_entropy.claim import LATE_CHECKPOINTS, claim_table, gap_closed_per_run, gap_difference
    from musiclib.chapters.cross_entropy.ngram_reference import ngram_comparison, ngram_reference
    from musiclib.measures.structure import reference_measures

    variant, generation = profile.cross_entropy.variant, profile.generation
    variant_data = data.variants[variant]
    losses, songs, per_song = [], {}, []
    for run_seed, run in runs.items():
        run_losses = loss_along_training(run.run_dir, variant_data.validation, run=run_seed)
        songs[run_seed] = songs_along_training(
            run.run_dir, variant, n_notes=generation.n_notes, n_songs=generation.songs_per_checkpoint, seed=seed
        )
        losses.append(run_losses)
        per_song.append(measures_along_training(songs[run_seed], run_losses, seed=seed))
    losses, per_song = pd.concat(losses, ignore_index=True), pd.concat(per_song, ignore_index=True)
    song_notes = len(next(iter(next(iter(songs.values())).values()))[0])
    held_out = reference_measures(data.splits.test, song_notes, seed=seed)
    summary = checkpoint_summary(per_song, seed=seed)
    per_run = trend_per_run(summary)
    across, late = trend_across_runs(per_run), late_trends(summary, LATE_CHECKPOINTS)
    gaps = gap_closed_per_run(summary, held_out)
    claim = claim_table(gaps, across, late)
    ngram = ngram_reference(
        variant_data, n_notes=generation.n_notes, n_songs=generation.songs_per_checkpoint * len(runs), seed=seed
    )
    first = losses[losses["run"] == next(iter(runs))]
    return CrossEntropyStudy(
        losses=losses, songs=songs, per_song=per_song, held_out=held_out, summary=summary, per_run=per_run,
        across=across, late=late, gaps=gaps, difference=gap_difference(gaps), claim=claim, ngram=ngram,
        ngram_comparison=ngram_comparison(per_song, claim, ngram, seed=seed),
        evolution=melody_evolution_checkpoints(first),
    )  # fmt: skip


def evolution_melodies(study: CrossEntropyStudy) -> list[tuple[str, list[int]]]:
    """The "melody evolution" panel: the first song of each picked checkpoint of the first run.

    Parameters
    ----------
    study : CrossEntropyStudy

    Returns
    -------
    list of (str, list of int)
        ``(title, MIDI pitches)`` per paper panel, e.g. ``"(e) paper step 40,000 (0.34 of ln V), ours:
        step 23,400 (0.47 of ln V)"``.
    """
    first = next(iter(study.songs.values()))
    return [
        (
            (
                f"({row.panel}) paper step {row.paper_step:,} ({row.paper_normalised:.2f} of ln V), "
                f"ours: step {row.step:,} ({row.normalised:.2f} of ln V)"
            ),
            list(first[row.step][0]),
        )
        for row in study.evolution.itertuples()
    ]
