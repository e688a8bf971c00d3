r"""Chapter 2's evidence on depth beyond the choice itself: each depth against the chosen one,
paired by training seed, and the paper's rule (the lowest training loss) applied at a common epoch.

The choice is :func:`musiclib.experiments.selection.select_layers` (the one-standard-error rule
over seeds); losses are cross-entropies in nats per note.

Notebook: 02_layers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import scipy.stats

from musiclib.common.checks import open_fraction
from musiclib.experiments.grid import GridResult
from musiclib.experiments.selection import select_layers

CONTRAST_COLUMNS = [
    "variant", "cell", "num_layers", "chosen_num_layers", "n_pairs", "difference", "ci_low", "ci_high",
    "excludes_zero",
]  # fmt: skip


def depth_contrasts(losses: pd.DataFrame, selection: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    r"""Every depth against the chosen one, paired by training seed, with a t interval over seeds.

    For a (variant, cell) with chosen depth :math:`c` and another depth :math:`d`, the seeds
    :math:`s` at which both runs left the start-up plateau give the differences
    :math:`D_s = L_{d,s} - L_{c,s}` of their selection losses; with :math:`n` such seeds,

    .. math::

        \bar D \pm t_{1 - \alpha/2,\, n - 1} \frac{s_D}{\sqrt n}, \qquad
        s_D = \sqrt{\frac{1}{n - 1} \sum_s \left(D_s - \bar D\right)^2},

    where :math:`1 - \alpha` is ``confidence`` and :math:`t_{q, \nu}` the :math:`q` quantile of
    Student's t with :math:`\nu` degrees of freedom. A positive difference means depth :math:`d`
    predicts the validation notes worse than the chosen depth.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.experiments.selection.final_losses` (variant, cell, num_layers, seed,
        selection_loss, left_plateau).
    selection : pandas.DataFrame
        :func:`musiclib.experiments.selection.select_layers` (variant, cell, num_layers).
    confidence : float
        Coverage of the interval, in (0, 1).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CONTRAST_COLUMNS`, one row per depth other than the chosen one that has
        runs that trained: n_pairs (:math:`n`), difference (:math:`\bar D`), ci_low, ci_high (NaN
        when :math:`n < 2`), excludes_zero (the interval lies wholly above or below zero).

    Raises
    ------
    ValueError
        When ``confidence`` is not in (0, 1).

    Notes
    -----
    The runs of one seed share only the seed number (their weights have different shapes), so
    pairing mostly keeps the bookkeeping honest: the pairs are independent of each other, which
    is what the interval needs, and a seed that helps every depth alike cancels. With 3 seeds
    the quantile is :math:`t_{0.975, 2} = 4.30`: the intervals are wide, and "no interval
    excludes zero" means the seeds cannot tell the depths apart, not that they are equal.
    """
    confidence = open_fraction(confidence, "confidence")
    trained = losses[losses["left_plateau"].astype(bool)]
    rows = []
    for choice in selection.itertuples():
        pair = trained[(trained["variant"] == choice.variant) & (trained["cell"] == choice.cell)]
        by_seed = pair.pivot_table(index="seed", columns="num_layers", values="selection_loss")
        for layers in by_seed.columns:
            if layers == choice.num_layers:
                continue
            differences = (by_seed[layers] - by_seed[choice.num_layers]).dropna().to_numpy()
            low, high = _t_interval(differences, confidence)
            rows.append({
                "variant": choice.variant, "cell": choice.cell, "num_layers": int(layers),
                "chosen_num_layers": int(choice.num_layers), "n_pairs": len(differences),
                "difference": float(differences.mean()) if len(differences) else math.nan,
                "ci_low": low, "ci_high": high, "excludes_zero": bool(low > 0 or high < 0),
            })  # fmt: skip
    return pd.DataFrame(rows, columns=CONTRAST_COLUMNS)


def _t_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Student's t interval of the mean of ``values``; (NaN, NaN) for fewer than two."""
    if len(values) < 2:
        return math.nan, math.nan
    half_width = scipy.stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values))
    return float(values.mean() - half_width), float(values.mean() + half_width)


COMMON_EPOCH_COLUMNS = ["variant", "cell", "num_layers", "common_epoch", "n_runs", "mean_train_loss", "sd_train_loss"]


def training_loss_at_common_epoch(result: GridResult) -> pd.DataFrame:
    r"""The training loss of every depth at the common epoch of its (variant, cell): the last
    whole epoch that every one of that pair's runs completed.

    Runs stop early at different epochs, and a training loss keeps falling as long as a run
    trains, so comparing last training losses favours whichever run trained longest. At the
    common epoch :math:`E = \min_r e_r` (:math:`e_r` the whole epochs run :math:`r` completed)
    every depth has trained equally long, as the paper's curves had (all after 300 epochs).

    Parameters
    ----------
    result : musiclib.experiments.grid.GridResult

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COMMON_EPOCH_COLUMNS`, one row per (variant, cell, num_layers):
        common_epoch (:math:`E`, counted from 1; 0 when a run completed no whole epoch), n_runs
        (its runs, every seed), mean_train_loss and sd_train_loss (the mean training loss of
        epoch :math:`E` over those runs and its standard deviation, nats per note; NaN where
        undefined).

    Notes
    -----
    Every run counts, as every run's curve counted for the paper: the rule knows nothing of the
    start-up plateau, and a run that never left it loses by its high training loss.
    """
    rows = []
    for point, run in result.runs.items():
        whole = {epoch["epoch"]: epoch["train_loss"] for epoch in run.history["epochs"] if "fraction" not in epoch}
        rows.append({"variant": point.variant, "cell": point.cell, "num_layers": point.num_layers,
                     "epochs": max(whole, default=0), "losses": whole})  # fmt: skip
    runs = pd.DataFrame(rows)
    runs["common_epoch"] = runs.groupby(["variant", "cell"], sort=False)["epochs"].transform("min")
    runs["loss"] = [whole.get(epoch, math.nan) for whole, epoch in zip(runs["losses"], runs["common_epoch"])]
    table = []
    for (variant, cell, layers), depth in runs.groupby(["variant", "cell", "num_layers"], sort=False):
        values = depth["loss"].dropna().to_numpy()
        table.append({
            "variant": variant, "cell": cell, "num_layers": int(layers), "common_epoch": int(depth["common_epoch"].iloc[0]),
            "n_runs": len(depth), "mean_train_loss": float(values.mean()) if len(values) else math.nan,
            "sd_train_loss": float(values.std(ddof=1)) if len(values) > 1 else math.nan,
        })  # fmt: skip
    return pd.DataFrame(table, columns=COMMON_EPOCH_COLUMNS)


RULES_COLUMNS = [
    "variant", "cell", "ours_num_layers", "ours_rule", "ours_mean_loss", "ours_se_loss", "paper_rule_num_layers",
    "common_epoch", "paper_rule_train_loss", "published_num_layers", "rules_agree",
]  # fmt: skip


def selection_rules(result: GridResult) -> pd.DataFrame:
    """Our layer choice (the one-standard-error rule over seeds) beside the paper's rule at a
    common epoch (the lowest mean training loss after :math:`E` epochs) and the paper's published
    choice, per (variant, cell).

    Parameters
    ----------
    result : musiclib.experiments.grid.GridResult
        The finished grid.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`RULES_COLUMNS`: ours_num_layers, ours_rule, ours_mean_loss and ours_se_loss
        (:func:`musiclib.experiments.selection.select_layers`: the chosen depth's mean selection
        loss and its standard error, nats per note); paper_rule_num_layers, common_epoch
        (:math:`E`) and paper_rule_train_loss (its mean training loss in epoch :math:`E`,
        :func:`training_loss_at_common_epoch`); published_num_layers (the paper's choice; NaN for
        pairs it did not study); rules_agree.

    Notes
    -----
    The paper picked "the best learning curve" of the training loss by eye after 300 epochs (it
    had no validation split); the lowest training loss at an epoch every run reached is that rule
    made explicit for runs that stop early. It favours the model that fits the training songs
    best, overfitting included.
    """
    ours = select_layers(result).rename(columns={
        "num_layers": "ours_num_layers", "rule": "ours_rule", "mean_loss": "ours_mean_loss",
        "se_loss": "ours_se_loss", "paper_num_layers": "published_num_layers",
    })  # fmt: skip
    at_epoch = training_loss_at_common_epoch(result).dropna(subset=["mean_train_loss"])
    paper_rule = at_epoch.loc[at_epoch.groupby(["variant", "cell"], sort=False)["mean_train_loss"].idxmin()]
    paper_rule = paper_rule[["variant", "cell", "num_layers", "common_epoch", "mean_train_loss"]].rename(
        columns={"num_layers": "paper_rule_num_layers", "mean_train_loss": "paper_rule_train_loss"}
    )
    table = ours.merge(paper_rule, on=["variant", "cell"], how="left")
    table["rules_agree"] = table["ours_num_layers"] == table["paper_rule_num_layers"]
    return table[RULES_COLUMNS]
