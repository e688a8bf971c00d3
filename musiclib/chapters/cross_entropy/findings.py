"""Chapter 5's "What we found": losses and measures along training, computed from the tables.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from musiclib import published
from musiclib.outputs.prose import bullets, plural


def cross_entropy_intro(profile: Any, losses: pd.DataFrame, reference: pd.DataFrame) -> str:
    """Chapter 5: the study's model, its runs, checkpoints, songs and held-out songs.

    Parameters
    ----------
    profile : musiclib.experiments.profiles.Profile
    losses : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.loss_along_training` of every run (columns run, step).
    reference : pandas.DataFrame
        :func:`musiclib.measures.structure.reference_measures` (one row per held-out song).

    Returns
    -------
    str
    """
    study, generation = profile.cross_entropy, profile.generation
    runs = list(losses["run"].unique())
    steps = sorted(set(losses["step"]))
    return (
        f"A {study.num_layers}-layer {study.cell} ({profile.train.rnn_size} units) on the {study.variant} dataset, "
        f"batches of {study.batch_size}, {plural(study.num_epochs, 'epoch')}, trained {plural(len(runs), 'time')} "
        f"(seeds {', '.join(str(run) for run in runs)}), {steps[-1]:,} steps each. "
        f"{plural(len(steps), 'checkpoint')} per run, at steps {', '.join(f'{step:,}' for step in steps)}; "
        f"{generation.songs_per_checkpoint} songs of {generation.n_notes} notes from each checkpoint, compared with "
        f"{plural(len(reference), 'held-out test song')} cut to the same length."
    )


def cross_entropy_loss_findings(losses: pd.DataFrame, evolution: pd.DataFrame) -> str:
    """Chapter 5: where the held-out loss started and ended, next to the paper's curve.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.loss_along_training` of every run.
    evolution : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.along_training.melody_evolution_checkpoints` (the paper's panels).

    Returns
    -------
    str
        Markdown bullets: one sentence per run, one on the paper, one on how far our training got
        on the paper's scale (:math:`\\ell / \\ln V`).
    """
    return bullets(_loss_sentences(losses, evolution))


def _loss_sentences(losses: pd.DataFrame, evolution: pd.DataFrame) -> list[str]:
    sentences = []
    for run, rows in losses.sort_values("step").groupby("run", sort=False):
        first, last = rows.iloc[0], rows.iloc[-1]
        sentences.append(
            f"Run {run}: the loss on the validation songs fell from {first['loss']:.2f} to {last['loss']:.2f} nats per "
            f"note, {first['normalised_loss']:.2f} → {last['normalised_loss']:.2f} of the uniform guess "
            f"(ln {int(first['vocab_size'])} = {first['loss'] / first['normalised_loss']:.2f} nats)."
        )
    start, end = evolution.iloc[0], evolution.iloc[-1]
    sentences.append(
        f"The paper's training loss fell from {start['paper_loss']:.2f} to {end['paper_loss']:.2f} nats per note, "
        f"{start['paper_normalised']:.2f} → {end['paper_normalised']:.2f} of the uniform guess over its "
        f"{published.value('control_vocabulary_size')} tokens."
    )
    return sentences + [_panels_reached(losses, evolution)]


def _panels_reached(losses: pd.DataFrame, evolution: pd.DataFrame) -> str:
    """How far our lowest normalised loss gets on the paper's panels."""
    lowest = float(losses["normalised_loss"].min())
    reached = evolution[evolution["paper_normalised"] >= lowest]["panel"].tolist()
    return (
        f"Our lowest checkpoint loss is {lowest:.2f} of the uniform guess: it reaches the paper's panels "
        f"{', '.join(f'({panel})' for panel in reached)}"
        + ("." if len(reached) == len(evolution) else "; the later panels show a model trained further than ours.")
    )


def cross_entropy_findings(losses: pd.DataFrame, evolution: pd.DataFrame, claim: pd.DataFrame) -> str:
    """Chapter 5's "What we found": the loss, each measure's trend across runs, the verdict.

    Parameters
    ----------
    losses, evolution
        As for :func:`cross_entropy_loss_findings`.
    claim : pandas.DataFrame
        :func:`musiclib.chapters.cross_entropy.claim.claim_table`.

    Returns
    -------
    str
        Markdown bullets: the runs' losses in one sentence, how far they got on the paper's
        scale (the last sentence of :func:`cross_entropy_loss_findings`, whose per-run sentences
        the chapter shows above), then :func:`musiclib.chapters.cross_entropy.claim.claim_findings`'s sentences.
    """
    from musiclib.chapters.cross_entropy.claim import claim_findings

    ends = losses.sort_values("step").groupby("run", sort=False).agg(
        first=("loss", "first"), last=("loss", "last"), first_normalised=("normalised_loss", "first"),
        last_normalised=("normalised_loss", "last"),
    )  # fmt: skip
    summary = (
        f"Over {plural(len(ends), 'training run')} the loss on the validation songs fell from "
        f"{ends['first'].mean():.2f} to {_span(ends['last'], '.2f')} nats per note "
        f"({ends['first_normalised'].mean():.2f} → {_span(ends['last_normalised'], '.2f')} of the uniform guess)."
    )
    return bullets([summary, _panels_reached(losses, evolution)] + claim_findings(claim)["sentences"])


def _span(values: pd.Series, spec: str) -> str:
    """``"2.00"`` for one value, ``"2.00–2.50"`` for a range."""
    low, high = float(values.min()), float(values.max())
    return f"{low:{spec}}" if f"{low:{spec}}" == f"{high:{spec}}" else f"{low:{spec}}–{high:{spec}}"
