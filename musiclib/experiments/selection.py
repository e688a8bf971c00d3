"""Learning curves and the layer selection: which depth each cell and variant gets.

The grid's verdict (chapter 2) that the generation and embedding chapters build on: every run's
figures (:func:`run_outcome`, :func:`final_losses`), their mean and spread over training seeds per
depth (:func:`depth_summary`), the depth chosen by the one-standard-error rule
(:func:`choose_depths`, :func:`select_layers`) and the run the later chapters use
(:func:`selected_runs`). Losses are cross-entropies in nats per note (token).

Notebook: 02_layers (03_generation and 04_embeddings use the selection).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from musiclib.experiments.grid import GridPoint, GridResult

RUN_COLUMNS = ["variant", "cell", "num_layers", "seed"]
"""The columns that name a run in every table of this module (``seed``: its training seed)."""


def learning_curves(result: GridResult) -> pd.DataFrame:
    """Per-epoch losses of every run, long format.

    Parameters
    ----------
    result : musiclib.experiments.grid.GridResult

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, num_layers, seed (the run's training seed), epoch, split ("train"
        or "validation"), loss (cross-entropy in nats per token).
    """
    rows = [
        {**_run_columns(point, run), "epoch": epoch["epoch"], "split": split, "loss": epoch[column]}
        for point, run in result.runs.items()
        for epoch in run.history["epochs"]
        for split, column in (("train", "train_loss"), ("validation", "val_loss"))
    ]
    return pd.DataFrame(rows, columns=[*RUN_COLUMNS, "epoch", "split", "loss"])


def step_curves(result: GridResult, *, smoothing_steps: int | None = None) -> pd.DataFrame:
    """Training loss of every step of every run (as TensorBoard shows it), on an epoch axis.

    Parameters
    ----------
    result : musiclib.experiments.grid.GridResult
    smoothing_steps : int, optional
        Width of the running mean, in steps (default: a tenth of an epoch).

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, num_layers, seed, step, epoch (step / steps per epoch, fractional),
        loss (nats per token, running mean).
    """
    frames = []
    for point, run in result.runs.items():
        steps = pd.DataFrame(run.history["steps"], columns=["step", "loss"])
        # a run that stopped in the middle of an epoch records the part it did as "fraction"
        epochs_run = sum(epoch.get("fraction", 1.0) for epoch in run.history["epochs"])
        steps_per_epoch = steps["step"].max() / epochs_run
        window = smoothing_steps or max(1, round(steps_per_epoch / 10))
        frame = pd.DataFrame(
            {
                "step": steps["step"],
                "epoch": steps["step"] / steps_per_epoch,
                "loss": steps["loss"].rolling(window, min_periods=1).mean(),
            }
        )
        for column, value in reversed(_run_columns(point, run).items()):
            frame.insert(0, column, value)
        frames.append(frame)
    columns = [*RUN_COLUMNS, "step", "epoch", "loss"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


@dataclass(frozen=True)
class RunOutcome:
    """What the layer selection reads from one finished run (:func:`run_outcome`).

    Attributes
    ----------
    selection_loss : float
        Nats per note: the run's best weights scored per song on every validation song, the
        figure that depth selection compares.
    left_plateau : bool
        Whether the validation loss left the start-up plateau of the unigram model (False: the
        run never trained).
    restarts : int
        How often the run started over from another seed because it stayed on that plateau.
    final_seed : int
        The seed of the initial weights it finished with (its own seed unless it restarted).
    hit_cap_improving : bool
        It reached its epoch cap with its best validation check in its last epoch, still improving.
    """

    selection_loss: float
    left_plateau: bool
    restarts: int
    final_seed: int
    hit_cap_improving: bool


def run_outcome(run: Any) -> RunOutcome:
    """The figures of a finished run that the selection reads: the one accessor of its summary
    (``complete.json``, ``Run.summary``) for them.

    Parameters
    ----------
    run : musiclib.models.train.Run
        A finished run (``summary``, ``history``, ``config``).

    Returns
    -------
    RunOutcome
        Each figure from the summary; for a run whose summary lacks it (written before the
        training recorded it), the default: ``selection_loss`` its best validation loss (the
        last epoch's validation loss for runs older still), ``left_plateau`` True, ``restarts``
        0, ``final_seed`` its configured seed and ``hit_cap_improving`` computed from its
        history: not stopped early and its best epoch its last.
    """
    summary = getattr(run, "summary", {})
    last = run.history["epochs"][-1]
    best_epoch = summary.get("best_epoch", last["epoch"])
    stopped_epoch = summary.get("stopped_epoch", last["epoch"])
    return RunOutcome(
        selection_loss=float(summary.get("selection_loss", summary.get("best_val_loss", last["val_loss"]))),
        left_plateau=bool(summary.get("left_plateau", True)),
        restarts=int(summary.get("restarts", 0)),
        final_seed=int(summary.get("final_seed", run.config.seed)),
        hit_cap_improving=bool(
            summary.get("hit_cap_improving", not summary.get("stopped_early", False) and best_epoch == stopped_epoch)
        ),
    )


def final_losses(result: GridResult) -> pd.DataFrame:
    """Every run's last-epoch losses, its best validation check, its selection loss and how its
    start-up and stopping went.

    Parameters
    ----------
    result : musiclib.experiments.grid.GridResult

    Returns
    -------
    pandas.DataFrame
        One row per run. Columns variant, cell, num_layers, seed (training seed), train_loss,
        val_loss (last epoch, nats per note), best_val_loss (the lowest validation loss, whose
        weights the run keeps as its best model), best_epoch, stopped_epoch (both counted from 1),
        stopped_early (patience ran out before the epoch cap), seconds (training time), then the
        columns of :class:`RunOutcome` (:func:`run_outcome`): selection_loss, left_plateau,
        restarts, final_seed, hit_cap_improving.
    """
    rows = []
    for point, run in result.runs.items():
        epochs = run.history["epochs"]
        summary = getattr(run, "summary", {})
        rows.append(
            {
                **_run_columns(point, run),
                "train_loss": epochs[-1]["train_loss"],
                "val_loss": epochs[-1]["val_loss"],
                # runs finished before best weights were kept: their best model is the final one
                "best_val_loss": summary.get("best_val_loss", epochs[-1]["val_loss"]),
                "best_epoch": summary.get("best_epoch", epochs[-1]["epoch"]),
                "stopped_epoch": summary.get("stopped_epoch", epochs[-1]["epoch"]),
                "stopped_early": bool(summary.get("stopped_early", False)),
                "seconds": sum(epoch.get("seconds", 0.0) for epoch in epochs),
                **asdict(run_outcome(run)),
            }
        )
    columns = ["train_loss", "val_loss", "best_val_loss", "best_epoch", "stopped_epoch", "stopped_early", "seconds",
               *(item.name for item in fields(RunOutcome))]  # fmt: skip
    return pd.DataFrame(rows, columns=[*RUN_COLUMNS, *columns])


DEPTH_COLUMNS = [
    "variant", "cell", "num_layers", "n_runs", "n_seeds", "mean_loss", "sd_loss", "se_loss",
    "never_trained", "restarted_runs", "restarts", "hit_cap_improving",
]  # fmt: skip


def depth_summary(losses: pd.DataFrame) -> pd.DataFrame:
    r"""The selection loss of every depth over its training seeds: mean, standard deviation and
    standard error, and how many of its runs never trained or restarted.

    For depth :math:`d` of a (variant, cell) with selection losses :math:`L_{d,s}` of the
    :math:`n_d` seeds :math:`s` whose runs left the start-up plateau,

    .. math::

        \bar L_d = \frac{1}{n_d} \sum_s L_{d,s}, \qquad
        s_d = \sqrt{\frac{1}{n_d - 1} \sum_s \left(L_{d,s} - \bar L_d\right)^2}, \qquad
        \mathrm{SE}_d = \frac{s_d}{\sqrt{n_d}}.

    A run that never left the plateau is left out of the mean (it failed to start, which says
    nothing of what its depth can learn) and counted in ``never_trained``; only where no run of the
    depth trained (:math:`n_d = 0`) is ``mean_loss`` the mean over its runs that did not.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`final_losses` (variant, cell, num_layers, selection_loss, left_plateau, restarts,
        hit_cap_improving).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DEPTH_COLUMNS`, one row per (variant, cell, num_layers) in the order of
        ``losses``: n_runs (runs finished), n_seeds (:math:`n_d`), mean_loss (:math:`\bar L_d`),
        sd_loss (:math:`s_d`), se_loss (:math:`\mathrm{SE}_d`), all in nats per note (NaN where
        :math:`n_d` is too small); never_trained, restarted_runs (runs that restarted at least
        once), restarts (in all), hit_cap_improving (runs).
    """
    rows = []
    for (variant, cell, layers), runs in losses.groupby(["variant", "cell", "num_layers"], sort=False):
        trained = runs.loc[runs["left_plateau"].astype(bool), "selection_loss"].to_numpy(dtype=float)
        sd = float(np.std(trained, ddof=1)) if len(trained) > 1 else math.nan
        mean = trained.mean() if len(trained) else runs["selection_loss"].mean()
        rows.append({
            "variant": variant, "cell": cell, "num_layers": int(layers), "n_runs": len(runs), "n_seeds": len(trained),
            "mean_loss": float(mean), "sd_loss": sd,
            "se_loss": sd / math.sqrt(len(trained)) if len(trained) > 1 else math.nan,
            "never_trained": int((~runs["left_plateau"].astype(bool)).sum()),
            "restarted_runs": int((runs["restarts"] > 0).sum()), "restarts": int(runs["restarts"].sum()),
            "hit_cap_improving": int(runs["hit_cap_improving"].astype(bool).sum()),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=DEPTH_COLUMNS)


ONE_STANDARD_ERROR, LOWEST_LOSS, NONE_TRAINED = "one standard error", "lowest loss", "lowest loss, none trained"
"""The rules :func:`choose_depths` applies: over seeds; the lowest loss (one seed at every depth);
the lowest loss of runs that never left the start-up plateau (no run of the pair did)."""

CHOICE_COLUMNS = [
    "variant", "cell", "num_layers", "rule", "best_num_layers", "best_mean_loss", "best_se_loss",
    "threshold", "tied_layers", "worse_layers",
]  # fmt: skip


def choose_depths(summary: pd.DataFrame) -> pd.DataFrame:
    r"""The depth of every (variant, cell) by the one-standard-error rule over training seeds.

    With :math:`b = \arg\min_d \bar L_d` the depth of the lowest mean selection loss, the chosen
    depth is the smallest one within one standard error of it:

    .. math::

        d^\star = \min \left\{ d : \bar L_d \le \bar L_b + \frac{s_p}{\sqrt{n_b}} \right\},
        \qquad
        s_p = \sqrt{\frac{\sum_d (n_d - 1)\, s_d^2}{\sum_d (n_d - 1)}},

    where :math:`s_p` is the seed-to-seed standard deviation pooled over the pair's depths that
    have several trained seeds (:math:`n_d \ge 2`; :func:`depth_summary` gives :math:`n_d` and
    :math:`s_d`). Pooling assumes that depth changes the mean loss more than its spread over seeds:
    three seeds give each :math:`s_d` only 2 degrees of freedom, the pooled one 2 per repeated
    depth, and a depth trained with one seed (a grid that repeats only the competing depths,
    ``[grid] layers_with_seeds``) gets a standard error too, so a single lucky seed cannot win
    alone. The smallest such depth is the most parsimonious model that the seeds cannot tell from
    the best. Depths that never trained (no seed left the plateau) are not candidates. When no
    depth has several trained seeds there is no spread to measure: the lowest loss :math:`b` is
    chosen. When no run of the pair trained at all, every depth is a candidate and the lowest mean
    loss is chosen, so the later chapters still get a model (``rule`` says which).

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`depth_summary` (variant, cell, num_layers, n_seeds, mean_loss, sd_loss).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CHOICE_COLUMNS`, one row per (variant, cell) in the order of ``summary``:
        num_layers (:math:`d^\star`), rule (:data:`ONE_STANDARD_ERROR`, :data:`LOWEST_LOSS` or
        :data:`NONE_TRAINED`), best_num_layers (:math:`b`), best_mean_loss, best_se_loss
        (:math:`s_p / \sqrt{n_b}`), threshold (:math:`\bar L_b + s_p / \sqrt{n_b}`, nats per note;
        NaN under the lowest-loss rules), tied_layers (the depths within the threshold, ascending;
        :math:`b` alone under the lowest-loss rules) and worse_layers (the other candidate depths).

    References
    ----------
    :cite:t:`hastie2009elements`, section 7.10 (the one-standard-error rule).
    """
    rows = []
    for (variant, cell), depths in summary.groupby(["variant", "cell"], sort=False):
        trained = depths[depths["n_seeds"] > 0]
        candidates = depths if trained.empty else trained
        best = candidates.loc[candidates["mean_loss"].idxmin()]
        spread = pooled_seed_sd(trained)
        rule = NONE_TRAINED if trained.empty else LOWEST_LOSS if math.isnan(spread) else ONE_STANDARD_ERROR
        best_se = spread / math.sqrt(best["n_seeds"]) if rule == ONE_STANDARD_ERROR else math.nan
        threshold = best["mean_loss"] + best_se
        within = candidates["mean_loss"] <= threshold if rule == ONE_STANDARD_ERROR else candidates.index == best.name
        tied = tuple(sorted(int(layers) for layers in candidates.loc[within, "num_layers"]))
        rows.append({
            "variant": variant, "cell": cell, "num_layers": tied[0], "rule": rule,
            "best_num_layers": int(best["num_layers"]), "best_mean_loss": best["mean_loss"],
            "best_se_loss": best_se, "threshold": threshold, "tied_layers": tied,
            "worse_layers": tuple(sorted(int(layers) for layers in candidates.loc[~within, "num_layers"])),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=CHOICE_COLUMNS)


def pooled_seed_sd(depths: pd.DataFrame) -> float:
    r"""The seed-to-seed standard deviation of one (variant, cell), pooled over its depths.

    .. math::

        s_p = \sqrt{\frac{\sum_d (n_d - 1)\, s_d^2}{\sum_d (n_d - 1)}}

    over the depths :math:`d` with :math:`n_d \ge 2` trained seeds.

    Parameters
    ----------
    depths : pandas.DataFrame
        Rows of :func:`depth_summary` (n_seeds, sd_loss) of one (variant, cell).

    Returns
    -------
    float
        :math:`s_p` in nats per note; NaN when no depth has two trained seeds.
    """
    repeated = depths[depths["n_seeds"] > 1]
    freedom = float((repeated["n_seeds"] - 1).sum())
    if freedom == 0:
        return math.nan
    return math.sqrt(float(((repeated["n_seeds"] - 1) * repeated["sd_loss"] ** 2).sum()) / freedom)


def competing_depths(losses: pd.DataFrame, margin: float) -> dict[tuple[str, str], tuple[int, ...]]:
    r"""The depths of every (variant, cell) that compete on their first seed: the rule that decides
    where further seeds go (``[grid] seed_margin``).

    With :math:`L_{d,0}` the selection loss of depth :math:`d`'s first seed (its lowest seed
    number), among the depths whose first seed left the start-up plateau,

    .. math::

        \{ d : L_{d,0} \le \min_{d'} L_{d',0} + m \}

    where :math:`m` is ``margin``. Where no first seed of the pair left the plateau, every depth
    competes.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`final_losses` (variant, cell, num_layers, seed, selection_loss, left_plateau).
    margin : float
        :math:`m`, nats per note.

    Returns
    -------
    dict of (str, str) to tuple of int
        The competing layer counts of every (variant, cell), ascending, in the order of ``losses``.
    """
    first = losses.loc[losses.groupby(["variant", "cell", "num_layers"], sort=False)["seed"].idxmin()]
    competing = {}
    for (variant, cell), runs in first.groupby(["variant", "cell"], sort=False):
        trained = runs[runs["left_plateau"].astype(bool)]
        if trained.empty:
            competing[(variant, cell)] = tuple(sorted(int(layers) for layers in runs["num_layers"]))
            continue
        within = trained["selection_loss"] <= trained["selection_loss"].min() + margin
        competing[(variant, cell)] = tuple(sorted(int(layers) for layers in trained.loc[within, "num_layers"]))
    return competing


def select_layers(result: GridResult) -> pd.DataFrame:
    """The layer count of every (variant, cell): the one-standard-error rule over training seeds
    (:func:`choose_depths`) on the selection losses of the runs' best weights.

    Each run's best model (its lowest validation loss, ``train.Run.model``) is the one we generate
    from, so its selection loss decides (the paper chose by eye from training-loss curves; it had
    no validation split).

    Parameters
    ----------
    result : musiclib.experiments.grid.GridResult

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, num_layers (the chosen depth), rule (:data:`ONE_STANDARD_ERROR`,
        :data:`LOWEST_LOSS` with one seed, or :data:`NONE_TRAINED`), n_seeds, mean_loss and
        se_loss (that depth's mean selection loss and its standard error, nats per note), seed
        and selection_loss (the
        selected run, :func:`selected_runs`), paper_num_layers (the paper's choice, from
        :mod:`musiclib.published`; NaN for pairs it did not study).

    Raises
    ------
    ValueError
        When no run finished.

    References
    ----------
    :cite:t:`garciavalencia2020sequence`, section IV; :cite:t:`hastie2009elements`, section 7.10.
    """
    from musiclib import published

    losses = final_losses(result)
    if losses.empty:
        raise ValueError("no finished runs to select from")
    summary = depth_summary(losses)
    chosen = choose_depths(summary)[["variant", "cell", "num_layers", "rule"]]
    chosen = chosen.merge(summary[["variant", "cell", "num_layers", "n_seeds", "mean_loss", "se_loss"]],
                          on=["variant", "cell", "num_layers"])  # fmt: skip
    runs = pd.DataFrame(
        [_selected_row(losses, row.variant, row.cell, row.num_layers) for row in chosen.itertuples()],
        columns=["seed", "selection_loss"],
    )
    selected = pd.concat([chosen.reset_index(drop=True), runs], axis=1)
    paper = published.table("chosen_layers").rename(columns={"num_layers": "paper_num_layers"})
    return selected.merge(paper, on=["variant", "cell"], how="left").reset_index(drop=True)


def selected_runs(result: GridResult, selection: pd.DataFrame) -> dict[tuple[str, str], Any]:
    """The selected run of every (variant, cell): of its runs at the chosen depth, the seed with
    the lowest selection loss among those that left the start-up plateau.

    One model per pair is what the generation and embedding chapters use; their run-to-run
    variance is studied apart (:mod:`musiclib.chapters.generation.replicates`).

    Parameters
    ----------
    result : musiclib.experiments.grid.GridResult
        Any result holding runs at the chosen depths (the grid's, or one seed's replicates).
    selection : pandas.DataFrame
        Columns variant, cell, num_layers, e.g. :func:`select_layers` of ``result``.

    Returns
    -------
    dict of (str, str) to musiclib.models.train.Run

    Raises
    ------
    KeyError
        When ``result`` holds no run of a selected (variant, cell, num_layers).
    """
    losses = final_losses(result)
    runs = list(result.runs.values())
    chosen = {}
    for row in selection.itertuples():
        candidates = _depth_runs(losses, row.variant, row.cell, int(row.num_layers))
        if candidates.empty:
            raise KeyError(f"no finished run of {GridPoint(row.variant, row.cell, int(row.num_layers)).label}")
        chosen[(row.variant, row.cell)] = runs[_best_index(candidates)]
    return chosen


def _selected_row(losses: pd.DataFrame, variant: str, cell: str, num_layers: int) -> dict[str, Any]:
    """Seed and selection loss of the run :func:`selected_runs` picks at one depth."""
    best = losses.loc[_best_index(_depth_runs(losses, variant, cell, num_layers))]
    return {"seed": int(best["seed"]), "selection_loss": float(best["selection_loss"])}


def _depth_runs(losses: pd.DataFrame, variant: str, cell: str, num_layers: int) -> pd.DataFrame:
    """The rows of :func:`final_losses` at one depth of one (variant, cell); index = run position."""
    mask = (losses["variant"] == variant) & (losses["cell"] == cell) & (losses["num_layers"] == num_layers)
    return losses[mask.to_numpy()]


def _best_index(runs: pd.DataFrame) -> int:
    """The row of the lowest selection loss, preferring runs that left the plateau."""
    ranked = runs.assign(stuck=~runs["left_plateau"].astype(bool)).sort_values(["stuck", "selection_loss"], kind="stable")
    return int(ranked.index[0])


def _run_columns(point: GridPoint, run: Any) -> dict[str, Any]:
    """The :data:`RUN_COLUMNS` of one run; a point without a seed ran with its configured one."""
    seed = run.config.seed if point.seed is None else point.seed
    return {"variant": point.variant, "cell": point.cell, "num_layers": point.num_layers, "seed": seed}


def row_label(row) -> str:
    """``control lstm, 3 layers`` for a table row with variant, cell and num_layers, and
    ``control lstm, 3 layers, seed 1`` when it has a seed too."""
    seed = int(row["seed"]) if "seed" in row else None
    return GridPoint(row["variant"], row["cell"], int(row["num_layers"]), seed).label
