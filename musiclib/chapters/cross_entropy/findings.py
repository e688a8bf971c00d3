"""Chapter 5's sentences: the study's set-up, the loss along training and "What we found".

Each sentence is printed once: the loss of each run under the loss figure, the measures, the
n-gram reference and the verdict under "What we found".

Notebook: 05_cross_entropy
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from musiclib import published
from musiclib.chapters.cross_entropy.along_training import MEASURE_LABELS
from musiclib.chapters.cross_entropy.claim import claim_findings
from musiclib.chapters.cross_entropy.ngram_reference import ngram_findings
from musiclib.outputs.prose import bullets, plural


def cross_entropy_intro(profile: Any, losses: pd.DataFrame, held_out: pd.DataFrame) -> str:
    """Chapter 5: the study's model, its runs, checkpoints, songs and held-out songs.

    Parameters
    ----------
    profile : musiclib.experiments.profiles.Profile
    losses : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.loss_along_training` of every run (columns run, step).
    held_out : pandas.DataFrame
        :func:`musiclib.measures.structure.reference_measures` (one row per held-out song).

    Returns
    -------
    str
    """
    study, generation = profile.cross_entropy, profile.generation
    runs = list(losses["run"].unique())
    steps = sorted(set(losses["step"]))
    return (
        f"A {study.num_layers}-layer {study.cell.upper()} ({profile.train.rnn_size} units) on the {study.variant} "
        f"dataset, batches of {study.batch_size}, {plural(study.num_epochs, 'epoch')}, trained "
        f"{plural(len(runs), 'time')} (seeds {', '.join(str(run) for run in runs)}), {steps[-1]:,} steps each. "
        f"{plural(len(steps), 'checkpoint')} per run, at steps {', '.join(f'{step:,}' for step in steps)}; "
        f"{generation.songs_per_checkpoint} songs of {generation.n_notes} notes from each checkpoint, compared with "
        f"{plural(len(held_out), 'held-out test song')} cut to the same length."
    )


def cross_entropy_loss_findings(losses: pd.DataFrame, evolution: pd.DataFrame) -> str:
    """Chapter 5: where each run's held-out loss started, bottomed and ended, next to the paper's curve.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.loss_along_training` of every run.
    evolution : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.melody_evolution_checkpoints` (the paper's panels).

    Returns
    -------
    str
        Markdown bullets: one sentence per run (first, lowest and last checkpoint), one on the
        paper, one on how far our training got on the paper's scale (:math:`\\ell / \\ln V`).
    """
    sentences = []
    for run, rows in losses.sort_values("step").groupby("run", sort=False):
        first, lowest, last = rows.iloc[0], rows.loc[rows["loss"].idxmin()], rows.iloc[-1]
        lowest_step, last_step = int(lowest["step"]), int(last["step"])
        where = (
            f"at the last checkpoint (step {last_step:,})" if lowest_step == last_step
            else f"at step {lowest_step:,}, and ended at {last['loss']:.2f} ({last['normalised_loss']:.2f}) at step {last_step:,}"
        )  # fmt: skip
        sentences.append(
            f"Seed {run}: the loss on the validation songs fell from {first['loss']:.2f} nats per note "
            f"({first['normalised_loss']:.2f} of the uniform guess, ln {int(first['vocab_size'])} = "
            f"{first['loss'] / first['normalised_loss']:.2f} nats) to its lowest, {lowest['loss']:.2f} "
            f"({lowest['normalised_loss']:.2f}), {where}."
        )
    start, end = evolution.iloc[0], evolution.iloc[-1]
    sentences.append(
        f"The paper's training loss fell from {start['paper_loss']:.2f} to {end['paper_loss']:.2f} nats per note, "
        f"{start['paper_normalised']:.2f} → {end['paper_normalised']:.2f} of the uniform guess over its "
        f"{published.value('control_vocabulary_size')} tokens."
    )
    return bullets(sentences + [_panels_reached(losses, evolution)])


def _panels_reached(losses: pd.DataFrame, evolution: pd.DataFrame) -> str:
    """How far our lowest normalised loss gets on the paper's panels."""
    lowest = float(losses["normalised_loss"].min())
    reached = evolution[evolution["paper_normalised"] >= lowest]["panel"].tolist()
    return (
        f"Our lowest checkpoint loss is {lowest:.2f} of the uniform guess: it reaches the paper's panels "
        f"{', '.join(f'({panel})' for panel in reached)}"
        + ("." if len(reached) == len(evolution) else "; the later panels show a model trained further than ours.")
    )


def cross_entropy_findings(
    losses: pd.DataFrame, claim: pd.DataFrame, difference: dict, ngram_comparison: pd.DataFrame, ngram_order: int
) -> str:
    """Chapter 5's "What we found": the loss in one line, each measure, the n-gram reference, the verdict.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.loss_along_training` of every run.
    claim : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.claim.claim_table`.
    difference : dict
        :func:`musiclib.chapters.cross_entropy.claim.gap_difference`.
    ngram_comparison : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.ngram_reference.ngram_comparison`.
    ngram_order : int
        The Kneser-Ney model's order.

    Returns
    -------
    str
        Markdown bullets: where the runs' losses ended (the per-run sentences are under the loss
        figure), :func:`~musiclib.chapters.cross_entropy.claim.claim_findings`' sentences on the
        measures and the difference, :func:`~musiclib.chapters.cross_entropy.ngram_reference.ngram_findings`,
        and the verdict last.
    """
    ends = losses.sort_values("step").groupby("run", sort=False).agg(
        last=("loss", "last"), last_normalised=("normalised_loss", "last"), steps=("step", "last")
    )
    summary = (
        f"After {int(ends['steps'].max()):,} training steps the {plural(len(ends), 'run')} ended at "
        f"{_span(ends['last'], '.2f')} nats per note on the validation songs "
        f"({_span(ends['last_normalised'], '.2f')} of the uniform guess)."
    )
    *measures, verdict = claim_findings(claim, difference, MEASURE_LABELS)
    return bullets([summary, *measures, *ngram_findings(ngram_comparison, ngram_order, MEASURE_LABELS), verdict])


def _span(values: pd.Series, spec: str) -> str:
    """``"2.00"`` for one value, ``"2.00–2.50"`` for a range."""
    low, high = float(values.min()), float(values.max())
    return f"{low:{spec}}" if f"{low:{spec}}" == f"{high:{spec}}" else f"{low:{spec}}–{high:{spec}}"
