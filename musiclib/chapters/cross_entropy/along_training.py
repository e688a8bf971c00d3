r"""The cross-entropy study (paper 3): does lower loss mean less randomness but not more consistency?

Paper 3 trained one 2-layer control LSTM, saved checkpoints along training and generated one
melody per checkpoint; an AI summary of it reads "cross entropy effectively reduces randomness
but struggles with long-term consistency". Here the claim is measured:

1. :func:`checkpoint_schedule`: log-spaced checkpoint steps that include the paper's panels
   (steps 0, 20, 30, 750), up to the end of training.
2. :func:`loss_along_training`: the loss of every checkpoint on a fixed held-out set (every note
   of every validation song, scored from a reset state), in nats per note and as a fraction of
   the uniform guess (:func:`normalised_loss`), so runs with other vocabularies compare.
3. :func:`songs_along_training`: many songs per checkpoint, with the same seed notes and the
   same random stream at every checkpoint, so only the weights change.
4. :func:`measures_along_training` and :func:`checkpoint_summary`: the short- and long-term
   measures of :mod:`musiclib.measures.structure` per song, their mean per checkpoint with a bootstrap
   interval over songs.
5. :func:`trend_per_run` and :func:`trend_across_runs`: the trend of each measure with the loss,
   estimated per independent training run (seed); the conclusion rests on the spread across
   runs, not on checkpoint-level p-values (neighbouring checkpoints of one run are not
   independent). :func:`late_trends`: the same over the last checkpoints only, against the
   training length: is a measure still moving when training ends?
6. :mod:`musiclib.chapters.cross_entropy.claim`: the verdict on the paper's claim;
   :mod:`musiclib.chapters.cross_entropy.ngram_reference`: songs of a Kneser-Ney n-gram, the same
   objective without long memory.
7. :func:`melody_evolution_checkpoints`: our checkpoints matched to the paper's five "melody
   evolution" panels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from musiclib.common.checks import positive_int
from musiclib.measures.structure import LONG_TERM, SHORT_TERM, structure_measures

MEASURE_SCALES = {**{measure: "short" for measure in SHORT_TERM}, **{measure: "long" for measure in LONG_TERM}}
"""Short- or long-term, per measure of the study (long-term ones are read as their excess over the shuffle null)."""

MEASURE_LABELS = {
    "pitch_entropy_bits": "pitch entropy",
    "CMM": "CMM (mean step)",
    "step_share": "step share",
    "recurring_patterns_excess": "recurring patterns",
    "self_similarity_excess": "self-similarity",
}
"""What the chapter's tables, figures and sentences call each measure column of :func:`study_measures`
(the long-term ones are their excess over shuffled songs, as the chapter explains once)."""


def paper_panel_steps() -> tuple[int, ...]:
    """Checkpoint steps of paper 3's figure panels (a)-(d), from the published-tables file; the
    last panel, (e), is the end of the paper's training, whose counterpart is the end of ours
    (:func:`melody_evolution_checkpoints`)."""
    from musiclib.published import table

    return tuple(int(step) for step in table("paper3_checkpoints")["step"].iloc[:-1])


def checkpoint_schedule(total_steps: int, *, per_decade: int = 4, include: Sequence[int] | None = None) -> list[int]:
    r"""Checkpoint steps: 0, log-spaced steps up to ``total_steps``, and the paper's steps.

    Parameters
    ----------
    total_steps : int
        The last training step (the end of training), at least 1.
    per_decade : int
        Log-spaced steps per factor of 10 (4: 1, 2, 3 (rounded), 6, 10, 18, 32, 56, 100, ...).
    include : sequence of int
        Steps always kept when they are at most ``total_steps`` (default: the paper's 0, 20, 30,
        750, :func:`paper_panel_steps`).

    Returns
    -------
    list of int
        Sorted distinct steps :math:`\{0\} \cup \{\mathrm{round}(10^{j/d})\} \cup`
        ``include`` :math:`\cup \{T\}`, all :math:`\le T` = ``total_steps``.

    Notes
    -----
    The loss falls fastest at the start (the paper's panels are at steps 0, 20, 30, 750 and
    40000), so equal spacing on a log axis puts as many checkpoints in the first hundred steps
    as in the last tens of thousands.
    """
    positive_int(total_steps, "total_steps")
    positive_int(per_decade, "per_decade")
    include = paper_panel_steps() if include is None else include
    exponents = np.arange(0, per_decade * math.log10(total_steps) + 1) / per_decade
    spaced = np.round(10.0**exponents).astype(int)
    steps = {0, int(total_steps), *spaced.tolist(), *(int(step) for step in include)}
    return sorted(step for step in steps if 0 <= step <= total_steps)


def training_steps(config, variant_data) -> int:
    """The last training step of ``config`` on ``variant_data`` (batches per epoch x epochs): the
    ``total_steps`` of :func:`checkpoint_schedule`.

    ``config`` is a ``musiclib.models.train.TrainConfig``, ``variant_data`` a ``VariantData``; the
    batches are the paper's (``musiclib.models.train.paper_batches``).
    """
    from musiclib.models.train import paper_batches

    batches = paper_batches(variant_data.train, variant_data.vocab, config.batch_size, config.seq_length, split="training")
    return batches.num_batches * config.num_epochs

def normalised_loss(loss, vocab_size: int):
    r"""Cross-entropy as a fraction of the uniform guess: :math:`\ell / \ln V`.

    Parameters
    ----------
    loss : float or array-like
        Cross-entropy in nats per note.
    vocab_size : int
        Tokens in the model's vocabulary :math:`V` (at least 2).

    Returns
    -------
    float or numpy.ndarray
        1 for a model that guesses uniformly (the loss of an untrained model), 0 for a model
        that is always sure and right. The paper's losses (vocabulary of 111 tokens) and ours
        (about 38) are only comparable on this scale: :math:`\ln 111 = 4.71` nats is the
        uniform guess there, :math:`\ln 38 = 3.64` here.
    """
    if not isinstance(vocab_size, (int, np.integer)) or isinstance(vocab_size, bool) or vocab_size < 2:
        raise ValueError(f"vocab_size must be an integer of at least 2 tokens, got {vocab_size!r}")
    result = np.asarray(loss, dtype=np.float64) / math.log(vocab_size)
    return float(result) if result.ndim == 0 else result


def held_out_loss(model, songs: Sequence[Sequence[int]], vocab, *, tokens_per_batch: int | None = None) -> float:
    r"""Mean cross-entropy (nats per note) of a model on every note of every song, each from a reset state.

    The scoring of :func:`musiclib.measures.scoring.score_keras`, the one the layers chapter uses for the
    test songs and the n-gram yardsticks.

    Parameters
    ----------
    model : keras.Model
        An inference model of :func:`musiclib.models.network.build_model` (not stateful): token ids
        ``[batch, time]`` to logits ``[batch, time, V]``.
    songs : sequence of sequences of int
        Token sequences (pitches, or intervals for the interval variant), at least 2 tokens
        each; tokens must be in ``vocab``.
    vocab : musiclib.data.sequences.Vocabulary
        The model's vocabulary.
    tokens_per_batch : int, optional
        Bound on padded tokens per forward pass (default: scoring's).

    Returns
    -------
    float
        :math:`\frac{1}{\sum_s (n_s - 1)} \sum_s \sum_{t=1}^{n_s - 1} -\ln p(x_{s,t} \mid x_{s,<t})`:
        every note but the first of every song is predicted from the song's own beginning only.
        The same songs and the same scoring at every checkpoint make the losses comparable,
        unlike the single training batch behind each checkpoint's name.

    Raises
    ------
    ValueError
        No songs, or a song of fewer than 2 tokens.
    """
    from musiclib.measures.scoring import DEFAULT_TOKENS_PER_BATCH, score_keras

    short = [index for index, song in enumerate(songs) if len(song) < 2]
    if not len(songs) or short:
        raise ValueError(f"songs must be non-empty with at least 2 tokens each (song {short[0] if short else 0} is not)")
    return score_keras(model, vocab, songs, tokens_per_batch=tokens_per_batch or DEFAULT_TOKENS_PER_BATCH).cross_entropy


def checkpoint_models(run_dir: str | Path):
    """``(checkpoint, model)`` for every checkpoint of ``run_dir`` in training order, all in ONE
    inference model (use it before taking the next), so that Keras reuses its compiled predict
    step (and :func:`musiclib.models.generate.generate` its step model) instead of tracing one per
    checkpoint. Raises FileNotFoundError when the run has no checkpoints."""
    from musiclib.models.train import list_checkpoints, load_checkpoint_model

    checkpoints = list_checkpoints(run_dir)
    if not checkpoints:
        raise FileNotFoundError(f"{run_dir} has no checkpoints; train it with checkpoint_steps=checkpoint_schedule(...)")
    model = load_checkpoint_model(checkpoints[0])
    for checkpoint in checkpoints:
        model.load_weights(checkpoint.path)
        yield checkpoint, model


def loss_along_training(run_dir: str | Path, songs: Sequence[Sequence[int]], *, run: str | int | None = None) -> pd.DataFrame:
    """Held-out loss of every checkpoint of a run (:func:`held_out_loss` on the same songs).

    Parameters
    ----------
    run_dir : str or Path
        A training run directory (its ``checkpoints/`` and vocabulary).
    songs : sequence of sequences of int
        The fixed held-out token sequences (e.g. ``data.variants["control"].validation``).
    run : str or int, optional
        The run's label in column ``run`` (e.g. its seed); default the directory name.

    Returns
    -------
    pandas.DataFrame
        One row per checkpoint: ``run``, ``step``, ``batch_loss`` (the training batch loss in
        the checkpoint's name, nats per note), ``loss`` (held-out, nats per note),
        ``normalised_loss`` (``loss / ln V``), ``normalised_batch_loss``, ``vocab_size``.

    Raises
    ------
    FileNotFoundError
        ``run_dir`` has no checkpoints.
    """
    from musiclib.data.sequences import Vocabulary
    from musiclib.models.train import VOCAB_FILE

    vocab = Vocabulary.load(Path(run_dir) / VOCAB_FILE)
    rows = [
        {"step": checkpoint.step, "batch_loss": checkpoint.loss, "loss": held_out_loss(model, songs, vocab)}
        for checkpoint, model in checkpoint_models(run_dir)
    ]
    table = pd.DataFrame(rows)
    table.insert(0, "run", Path(run_dir).name if run is None else run)
    table["normalised_loss"] = normalised_loss(table["loss"].to_numpy(), len(vocab))
    table["normalised_batch_loss"] = normalised_loss(table["batch_loss"].to_numpy(), len(vocab))
    table["vocab_size"] = len(vocab)
    return table


def songs_along_training(
    run_dir: str | Path, variant: str, *, n_notes: int, n_songs: int, seed: int = 0, seed_notes: str | None = None
) -> dict[int, list[list[int]]]:
    """``n_songs`` songs from every checkpoint of a run, with the same seed notes and random stream.

    Parameters
    ----------
    run_dir : str or Path
        The training run directory.
    variant : str
        Its data variant (decides the seed notes and how songs are decoded to pitches).
    n_notes : int
        Notes generated per song after the seed notes.
    n_songs : int
        Songs per checkpoint.
    seed : int
        Seed of the random stream, the same at every checkpoint: song ``i`` of two checkpoints
        uses the same random numbers, so differences come from the weights alone.
    seed_notes : str, optional
        The seed melody; default the paper's (``generate.PAPER_SEEDS[variant]``).

    Returns
    -------
    dict
        step -> list of songs (MIDI pitches, seed included).
    """
    from musiclib.data.sequences import Vocabulary
    from musiclib.models.generate import PAPER_SEEDS, generate
    from musiclib.models.train import VOCAB_FILE

    vocab = Vocabulary.load(Path(run_dir) / VOCAB_FILE)
    return {
        checkpoint.step: generate(
            model,
            seed_notes or PAPER_SEEDS[variant],
            n_notes=n_notes,
            n_songs=n_songs,
            rng=np.random.default_rng(seed),
            vocab=vocab,
            variant=variant,
        )
        for checkpoint, model in checkpoint_models(run_dir)
    }


def measures_along_training(
    songs_by_step: Mapping[int, Sequence[Sequence[int]]], losses: pd.DataFrame, *, n_shuffles: int = 20, seed: int = 0
) -> pd.DataFrame:
    """Short- and long-term measures (:func:`musiclib.measures.structure.structure_measures`) of every song of every checkpoint.

    Parameters
    ----------
    songs_by_step : mapping
        step -> songs of one run (:func:`songs_along_training`).
    losses : pandas.DataFrame
        That run's :func:`loss_along_training` table (columns ``run``, ``step``, losses).
    n_shuffles, seed
        Shuffles per song for the null of the long-term measures, and their seed.

    Returns
    -------
    pandas.DataFrame
        One row per song: the loss columns of its checkpoint, ``song`` and the measures.
    """
    tables = []
    for step, songs in songs_by_step.items():
        table = structure_measures(songs, n_shuffles=n_shuffles, seed=seed)
        table.insert(0, "step", step)
        tables.append(table)
    return losses.merge(pd.concat(tables, ignore_index=True), on="step", validate="one_to_many")


def study_measures(measures: Sequence[str] | None = None) -> list[str]:
    """The measure columns of the study: the short-term ones and the long-term excesses."""
    return list(measures) if measures is not None else [*SHORT_TERM, *(f"{m}_excess" for m in LONG_TERM)]


def _scale(measure: str) -> str:
    return MEASURE_SCALES[measure.removesuffix("_excess")]


def measure_label(measure: str) -> str:
    """A measure column's name for people (:data:`MEASURE_LABELS`; an unknown column keeps its name)."""
    return MEASURE_LABELS.get(measure, measure)


def checkpoint_summary(
    per_song: pd.DataFrame,
    measures: Sequence[str] | None = None,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    r"""Mean of each measure per (run, checkpoint), with a bootstrap interval over songs.

    Parameters
    ----------
    per_song : pandas.DataFrame
        :func:`measures_along_training` tables (one or several runs).
    measures : sequence of str, optional
        Measure columns; default :func:`study_measures`.
    confidence : float
        Coverage of the intervals.
    n_resamples : int
        Bootstrap resamples of the songs of one checkpoint.
    seed : int
        Seed of the resampling.

    Returns
    -------
    pandas.DataFrame
        One row per run, step and measure: ``run``, ``step``, ``loss``, ``normalised_loss``,
        ``measure``, ``scale`` (short / long), ``mean``, ``ci_low``, ``ci_high``, ``n_songs``.

    Notes
    -----
    Percentile bootstrap over the songs of one checkpoint :cite:`efron1993bootstrap`: the
    songs of a checkpoint are independent draws (one random stream each), its interval says
    how well ``n_songs`` songs pin down that checkpoint's mean. It is not an interval for the
    trend with the loss: see :func:`trend_across_runs`.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for (run, step), group in per_song.groupby(["run", "step"], sort=True):
        picks = rng.integers(0, len(group), size=(n_resamples, len(group)))
        for measure in study_measures(measures):
            values = group[measure].to_numpy(dtype=np.float64)
            means = values[picks].mean(axis=1)
            low, high = np.quantile(means, [(1 - confidence) / 2, (1 + confidence) / 2])
            rows.append(
                {
                    "run": run,
                    "step": step,
                    "loss": float(group["loss"].iloc[0]),
                    "normalised_loss": float(group["normalised_loss"].iloc[0]),
                    "measure": measure,
                    "scale": _scale(measure),
                    "mean": float(values.mean()),
                    "ci_low": float(low),
                    "ci_high": float(high),
                    "n_songs": len(group),
                }
            )
    return pd.DataFrame(rows)


def trend_per_run(summary: pd.DataFrame, *, against: str = "normalised_loss") -> pd.DataFrame:
    r"""The trend of each measure with the loss within each run: least-squares slope and Spearman's rho.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`checkpoint_summary` (one row per run, step, measure).
    against : str
        The loss column: ``normalised_loss`` (default, comparable across vocabularies) or ``loss``.

    Returns
    -------
    pandas.DataFrame
        One row per run and measure: ``slope`` (change of the checkpoint mean per unit of
        ``against``: :math:`\hat\beta` of :math:`\bar m_c = \alpha + \beta \ell_c + \varepsilon`
        over the checkpoints :math:`c`), ``spearman_rho``, ``n_checkpoints``. A positive slope
        means the measure falls as training lowers the loss.
    """
    from scipy.stats import spearmanr

    rows = []
    for (run, measure), group in summary.groupby(["run", "measure"], sort=False):
        x, y = group[against].to_numpy(), group["mean"].to_numpy()
        if len(group) < 3 or np.ptp(x) == 0:
            raise ValueError(f"run {run!r}: {len(group)} checkpoints with {against} range {np.ptp(x)}; a trend needs >= 3 distinct losses")
        rho = spearmanr(x, y).statistic if np.ptp(y) > 0 else 0.0
        rows.append(
            {
                "run": run,
                "measure": measure,
                "scale": _scale(measure),
                "slope": float(np.polyfit(x, y, 1)[0]),
                "spearman_rho": float(rho),
                "n_checkpoints": len(group),
            }
        )
    return pd.DataFrame(rows)


def late_trends(summary: pd.DataFrame, checkpoints: int, *, confidence: float = 0.95) -> pd.DataFrame:
    r"""Is each measure still moving when training ends? Its trend over the last checkpoints of each run.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`checkpoint_summary` of at least 2 runs.
    checkpoints : int
        The last checkpoints of each run used (at least 3; none of them step 0).
    confidence : float
        Coverage of the interval across runs.

    Returns
    -------
    pandas.DataFrame
        :func:`trend_across_runs` of the slopes against :math:`\log_{10}` of the step: one row per
        measure, ``slope_mean`` the change of the checkpoint mean per tenfold more training
        steps over those checkpoints, with its t interval across runs.

    Raises
    ------
    ValueError
        Fewer than 3 checkpoints asked for, a run with fewer, or the step-0 checkpoint among them.

    Notes
    -----
    The checkpoints are log-spaced (:func:`checkpoint_schedule`), so the last ones cover the
    last part of training in about equal steps of :math:`\log_{10}` step, and a straight line in
    :math:`\log_{10}` step is how learning curves flatten. A slope whose interval excludes 0 says
    the measure still changed across those checkpoints in every seed alike: training had not
    settled it.
    """
    if checkpoints < 3:
        raise ValueError(f"checkpoints must be at least 3 for a trend, got {checkpoints}")
    last = summary.sort_values("step").groupby(["run", "measure"], sort=False).tail(checkpoints)
    if (last["step"] == 0).any() or (last.groupby(["run", "measure"]).size() < checkpoints).any():
        raise ValueError(f"every run needs {checkpoints} checkpoints after step 0 for the late trend")
    per_run = trend_per_run(last.assign(log10_step=np.log10(last["step"])), against="log10_step")
    return trend_across_runs(per_run, confidence=confidence)


def t_interval(values, confidence: float = 0.95) -> tuple[float, float, float]:
    r"""The mean of per-run values with its t interval across runs.

    Parameters
    ----------
    values : array-like of float
        One value per independent run (at least 2).
    confidence : float
        Coverage of the interval.

    Returns
    -------
    tuple of float
        ``(mean, low, high)``: :math:`\bar x \pm t_{R-1,\,(1+c)/2}\, s / \sqrt{R}` over the
        :math:`R` values (:math:`s` their standard deviation with :math:`R - 1` degrees of freedom).

    Raises
    ------
    ValueError
        Fewer than 2 values.
    """
    from scipy.stats import t

    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        raise ValueError(f"an interval across runs needs at least 2 runs, got {len(values)}")
    half = t.ppf((1 + confidence) / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return float(values.mean()), float(values.mean() - half), float(values.mean() + half)


def trend_across_runs(per_run: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    r"""The conclusion across independent runs: mean per-run trend with a t interval over runs.

    Parameters
    ----------
    per_run : pandas.DataFrame
        :func:`trend_per_run`, from at least 2 runs (seeds).
    confidence : float
        Coverage of the interval.

    Returns
    -------
    pandas.DataFrame
        One row per measure: ``scale``, ``n_runs``, ``slope_mean``, ``slope_ci_low``,
        ``slope_ci_high``, ``rho_mean``, ``rho_min``, ``rho_max``, ``same_sign`` (runs whose
        slope has the sign of the mean).

    Raises
    ------
    ValueError
        Fewer than 2 runs.

    Notes
    -----
    The runs are the independent units: each slope summarises one run's whole trajectory, and
    the interval

    .. math::

        \bar\beta \pm t_{R-1,\,(1+c)/2}\, s_\beta / \sqrt{R}

    over the :math:`R` runs' slopes is the uncertainty about the trend a new run would show.
    With few runs it is wide, honestly so; checkpoint-level p-values would treat strongly
    correlated neighbouring checkpoints as independent and be far too small.
    """
    rows = []
    for measure, group in per_run.groupby("measure", sort=False):
        runs = len(group)
        if runs < 2:
            raise ValueError(f"measure {measure!r} has {runs} run; the across-run interval needs at least 2 seeds")
        slopes = group["slope"].to_numpy()
        mean, low, high = t_interval(slopes, confidence)
        rows.append(
            {
                "measure": measure,
                "scale": group["scale"].iloc[0],
                "n_runs": runs,
                "slope_mean": mean,
                "slope_ci_low": low,
                "slope_ci_high": high,
                "rho_mean": float(group["spearman_rho"].mean()),
                "rho_min": float(group["spearman_rho"].min()),
                "rho_max": float(group["spearman_rho"].max()),
                "same_sign": int((np.sign(slopes) == np.sign(mean)).sum()),
            }
        )
    return pd.DataFrame(rows)


def melody_evolution_checkpoints(losses: pd.DataFrame, *, column: str = "normalised_loss") -> pd.DataFrame:
    r"""Our checkpoints matched to paper 3's five "melody evolution" panels, one distinct checkpoint each.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`loss_along_training` of one run (at least 5 checkpoints).
    column : str
        Our loss column compared: ``normalised_loss`` (held-out, default) or
        ``normalised_batch_loss`` (the training batch, the kind of loss the paper printed).

    Returns
    -------
    pandas.DataFrame
        One row per panel: ``panel``, ``paper_step``, ``paper_loss`` (nats per note),
        ``paper_normalised`` (:math:`\ell / \ln 111`, the paper's control vocabulary),
        ``step`` and ``normalised`` of our checkpoint, ``difference`` (ours - paper's). The steps
        increase from panel to panel.

    Raises
    ------
    ValueError
        No such column, several runs, or fewer checkpoints than panels.

    Notes
    -----
    The first panel, (a), is the paper's untrained model; its counterpart is ours, the first
    checkpoint (step 0). The last panel, (e), is the end of the paper's training; its counterpart
    is the end of ours: the first checkpoint whose loss is at or below the panel's, or else our
    last checkpoint. Each panel in between gets the checkpoint closest to it in loss among those
    after the previous panel's and before the next ones' (room is left for them). Matching every
    panel by the closest loss alone gave (d) and (e) the same checkpoint whenever training ended
    above panel (d)'s loss, since our last checkpoint was then the closest to both.
    """
    from musiclib.published import table, value

    if column not in losses:
        raise ValueError(f"losses has no column {column!r}; columns: {list(losses.columns)}")
    if losses["run"].nunique() != 1:
        raise ValueError(f"losses holds {losses['run'].nunique()} runs; pick one run's rows")
    paper = table("paper3_checkpoints")
    paper_normalised = normalised_loss(paper["train_loss"].to_numpy(), int(value("control_vocabulary_size")))
    ours = losses.sort_values("step").reset_index(drop=True)
    values, panels = ours[column].to_numpy(), len(paper)
    if len(ours) < panels:
        raise ValueError(f"losses has {len(ours)} checkpoints; matching the paper's {panels} panels needs as many")
    reached = np.flatnonzero(values <= paper_normalised[-1])
    end = max(int(reached[0]) if reached.size else len(ours) - 1, panels - 1)
    picks, first_free = [0], 1
    for panel, target in enumerate(paper_normalised[1:-1], start=1):
        last_allowed = end - (panels - 1 - panel)
        candidates = values[first_free : last_allowed + 1]
        picks.append(first_free + int(np.argmin(np.abs(candidates - target))))
        first_free = picks[-1] + 1
    picks.append(end)
    return pd.DataFrame(
        {
            "panel": paper["panel"],
            "paper_step": paper["step"],
            "paper_loss": paper["train_loss"],
            "paper_normalised": paper_normalised,
            "step": ours["step"].to_numpy()[picks],
            "normalised": values[picks],
            "difference": values[picks] - paper_normalised,
        }
    )
