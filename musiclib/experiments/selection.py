"""Learning curves and the layer selection: which depth each cell and variant gets.

The grid's verdict (chapter 2) that the generation and embedding chapters build on. Losses are
cross-entropies in nats per note (token).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from musiclib.experiments.grid import GridPoint, GridResult


def learning_curves(result: GridResult) -> pd.DataFrame:
    """Per-epoch losses of every run, long format.

    Parameters
    ----------
    result : musiclib.experiments.grid.GridResult

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, num_layers, epoch, split ("train" or "validation"), loss
        (cross-entropy in nats per token).
    """
    rows = [
        {**_point_columns(point), "epoch": epoch["epoch"], "split": split, "loss": epoch[column]}
        for point, run in result.runs.items()
        for epoch in run.history["epochs"]
        for split, column in (("train", "train_loss"), ("validation", "val_loss"))
    ]
    return pd.DataFrame(rows, columns=["variant", "cell", "num_layers", "epoch", "split", "loss"])


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
        Columns variant, cell, num_layers, step, epoch (step / steps per epoch, fractional), loss
        (nats per token, running mean).
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
        for column, value in reversed(_point_columns(point).items()):
            frame.insert(0, column, value)
        frames.append(frame)
    columns = ["variant", "cell", "num_layers", "step", "epoch", "loss"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def final_losses(result: GridResult) -> pd.DataFrame:
    """Last-epoch training and validation loss per run, and its best validation check.

    Parameters
    ----------
    result : musiclib.experiments.grid.GridResult

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, num_layers, train_loss, val_loss (last epoch, nats per note),
        best_val_loss (the lowest validation loss, whose weights the run keeps as its best
        model), best_epoch, stopped_epoch (both counted from 1), stopped_early (patience ran out
        before the epoch cap), seconds (training time).
    """
    rows = []
    for point, run in result.runs.items():
        epochs = run.history["epochs"]
        summary = getattr(run, "summary", {})
        rows.append(
            {
                **_point_columns(point),
                "train_loss": epochs[-1]["train_loss"],
                "val_loss": epochs[-1]["val_loss"],
                # runs finished before best weights were kept: their best model is the final one
                "best_val_loss": summary.get("best_val_loss", epochs[-1]["val_loss"]),
                "best_epoch": summary.get("best_epoch", epochs[-1]["epoch"]),
                "stopped_epoch": summary.get("stopped_epoch", epochs[-1]["epoch"]),
                "stopped_early": bool(summary.get("stopped_early", False)),
                "seconds": sum(epoch.get("seconds", 0.0) for epoch in epochs),
            }
        )
    columns = ["train_loss", "val_loss", "best_val_loss", "best_epoch", "stopped_epoch", "stopped_early", "seconds"]
    return pd.DataFrame(rows, columns=["variant", "cell", "num_layers", *columns])


def select_layers(result: GridResult) -> pd.DataFrame:
    """The layer count with the lowest best validation loss per (variant, cell).

    Each run's best model (its lowest validation loss, ``train.Run.model``) is the one we generate
    from, so that loss decides (the paper chose by eye from training-loss curves; it had no
    validation split).

    Parameters
    ----------
    result : musiclib.experiments.grid.GridResult

    Returns
    -------
    pandas.DataFrame
        Columns variant, cell, num_layers, val_loss (the selected run's best validation loss,
        nats per note), paper_num_layers (the paper's choice, from
        :mod:`musiclib.published`; NaN for pairs it did not study).

    Raises
    ------
    ValueError
        When no run finished.

    References
    ----------
    :cite:t:`garciavalencia2020sequence`, section IV.
    """
    from musiclib import published

    losses = final_losses(result)
    if losses.empty:
        raise ValueError("no finished runs to select from")
    best = losses.loc[losses.groupby(["variant", "cell"], sort=False)["best_val_loss"].idxmin()]
    best = best.assign(val_loss=best["best_val_loss"])
    paper = published.table("chosen_layers").rename(columns={"num_layers": "paper_num_layers"})
    selected = best[["variant", "cell", "num_layers", "val_loss"]].merge(paper, on=["variant", "cell"], how="left")
    return selected.reset_index(drop=True)


def selected_runs(result: GridResult, selection: pd.DataFrame) -> dict[tuple[str, str], Any]:
    """The selected run of every (variant, cell).

    Parameters
    ----------
    result : musiclib.experiments.grid.GridResult
    selection : pandas.DataFrame
        :func:`select_layers` of ``result``.

    Returns
    -------
    dict of (str, str) to musiclib.models.train.Run
    """
    return {
        (row.variant, row.cell): result.runs[GridPoint(row.variant, row.cell, int(row.num_layers))]
        for row in selection.itertuples()
    }


def _point_columns(point: GridPoint) -> dict[str, Any]:
    return {"variant": point.variant, "cell": point.cell, "num_layers": point.num_layers}


def row_label(row) -> str:
    """``control lstm, 3 layers`` for a table row with variant, cell and num_layers."""
    return GridPoint(row["variant"], row["cell"], int(row["num_layers"])).label
