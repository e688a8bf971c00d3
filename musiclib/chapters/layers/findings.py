"""Chapter 2's "What we found": the grid's state, the stopping rule and its outcome, untrained runs,
the depth answer over seeds and the layer selection, computed from the tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from musiclib import published
from musiclib.common.console import format_duration
from musiclib.experiments.profiles import restart_rule, warm_up_epochs
from musiclib.experiments.selection import LOWEST_LOSS, NONE_TRAINED, ONE_STANDARD_ERROR, competing_depths, row_label
from musiclib.outputs.prose import bullets, plural

NAMED_RUNS = 4
"""Runs that :func:`chosen_at_cap` names one by one; more are counted per variant."""


def grid_status(result: Any, losses: pd.DataFrame) -> str:
    """Chapter 2: how many runs finished, their training time, how many failed.

    Parameters
    ----------
    result : musiclib.experiments.grid.GridResult
    losses : pandas.DataFrame
        :func:`musiclib.experiments.selection.final_losses` of ``result`` (a ``seconds`` column).

    Returns
    -------
    str
    """
    status = f"{len(result.runs)} runs finished ({format_duration(losses['seconds'].sum())} of training, the runs' times summed)"
    if result.failed:
        status += f"; {len(result.failed)} failed: " + "; ".join(
            f"{point.label} ({error})" for point, error in result.failed.items()
        )
    return status + "."


def stopping_rule(profile: Any) -> str:
    """Chapter 2: when the runs stop and which of their weights the chapters use.

    Parameters
    ----------
    profile : musiclib.experiments.profiles.Profile
        ``[train] patience``, ``min_delta``, ``min_epochs``, ``plateau_margin``, ``plateau_budget``,
        ``max_restarts`` and ``num_epochs``.

    Returns
    -------
    str
        One sentence.
    """
    epochs_per_variant = profile.train.per_variant("num_epochs", profile.grid.variants)
    train, epochs = profile.train, " / ".join(f"{n} {variant}" for variant, n in epochs_per_variant.items())
    if train.patience > 0:
        stopping = (
            f"Each run stops early, after {plural(train.patience, 'validation check')} without an improvement of "
            f"{train.min_delta:g} nats per note{_warm_up(profile)} (its epochs, {epochs}, are caps)"
        )
    else:
        stopping = f"Each run trains for all its epochs ({epochs}; this profile sets no early-stopping patience)"
    return (
        stopping + " and keeps the weights of its lowest validation loss: the layer selection, the test scores and the "
        "songs of the next chapters use those best weights."
    )


def _warm_up(profile: Any) -> str:
    """When patience starts counting: ``", counted once the validation loss is 0.05 nats per note below
    the unigram model's (a run still on ...)"`` for a plateau budget, ``", but not before 10 control
    / 1 db12 epochs"`` for ``[train] min_epochs``; ``""`` for neither."""
    warm_up, restarts = warm_up_epochs(profile), restart_rule(profile)
    text = (f", counted once the validation loss is {profile.train.plateau_margin:g} nats per note below the unigram "
            f"model's ({restarts})") if restarts else ""
    return text + (f", but not before {warm_up} epochs of learning after the plateau" if warm_up else "")


def stopping_outcome(losses: pd.DataFrame, profile: Any) -> str:
    """Chapter 2: how many runs stopped early, how many of those still improved (by less than
    ``min_delta``) at their last check, and which ran to their epoch cap still improving.

    A run that stops on patience with its best check the last one had a validation loss that still
    fell, only more slowly than ``[train] min_delta`` per check; the rule stops slow learners further
    from their own minimum. A run that reaches its cap with its best validation check in its last epoch had not
    converged: its model is less trained than those that stopped on their own, and comparisons
    with them (DB12 against control, say) should allow for that.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.experiments.selection.final_losses` (variant, num_layers, best_epoch, stopped_epoch,
        stopped_early, hit_cap_improving).
    profile : musiclib.experiments.profiles.Profile
        ``[train] patience`` (without it no run stops early and nothing is said).

    Returns
    -------
    str
        One or two sentences, or ``""`` for a profile without early stopping.
    """
    if profile.train.patience == 0 or losses.empty:
        return ""
    stopped = losses["stopped_early"].astype(bool)
    text = f"{int(stopped.sum())} of {len(losses)} runs stopped early."
    falling = losses[stopped & (losses["best_epoch"] >= losses["stopped_epoch"])]
    if len(falling):
        by_depth = ", ".join(f"{count} with {_layers(int(layers))}"
                             for layers, count in falling["num_layers"].value_counts().sort_index().items())
        text += (
            f" Of those, {plural(len(falling), 'run')} ({by_depth}) had {'its' if len(falling) == 1 else 'their'} lowest "
            f"validation loss at the last check: still falling, by less than {profile.train.min_delta:g} nats per note "
            "per check, when patience ran out."
        )
    improving = losses[losses["hit_cap_improving"].astype(bool)]
    if len(improving):
        by_variant = ", ".join(f"{count} {variant}" for variant, count in improving["variant"].value_counts(sort=False).items())
        text += (
            f" {plural(len(improving), 'run')} ({by_variant}) reached {'its' if len(improving) == 1 else 'their'} "
            "epoch cap with the best validation loss in the last epoch, still improving: those models are less "
            "converged than the others, which comparisons between them should allow for."
        )
    return text


def untrained_runs(losses: pd.DataFrame, baselines: dict, *, margin: float) -> str:
    """Chapter 2: the runs that never left the unigram plateau, where every note is predicted from
    the note frequencies alone (deep stacks often start there and some never leave it).

    The verdict is the training loop's own (``left_plateau`` in each run's ``complete.json``,
    :class:`musiclib.models.training_loop.EarlyStopping`): a run left the plateau when one of its
    validation checks :math:`v` satisfied :math:`v \\le u - m`, with :math:`u` the validation
    cross-entropy of the unigram model of its variant and :math:`m` = ``[train] plateau_margin``;
    a run still on it after its plateau budget restarted from a new seed (``restarts``).

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.experiments.selection.final_losses` (variant, cell, num_layers, best_val_loss,
        stopped_epoch, left_plateau, restarts; seed, when given, is named).
    baselines : dict
        Variant -> ``{"unigram": loss, ...}`` (:func:`musiclib.measures.ngram.baseline_losses`), nats per
        note: the unigram loss printed beside each stuck run.
    margin : float
        ``[train] plateau_margin``, nats per note (for the sentence).

    Returns
    -------
    str
        One sentence.
    """
    stuck = losses[~losses["left_plateau"].astype(bool)]
    if stuck.empty:
        return (
            "Every run left the plateau of the unigram model (a validation loss at least "
            f"{margin:g} nats per note below the unigram model's)."
        )
    listed = "; ".join(
        f"{row_label(row)} ({row['best_val_loss']:.3f} after {int(row['stopped_epoch'])} epochs"
        + (f" and {plural(int(row['restarts']), 'restart')}" if row.get("restarts", 0) else "")
        + f", unigram {baselines[row['variant']]['unigram']:.3f})"
        for _, row in stuck.iterrows()
    )
    return (
        f"{plural(len(stuck), 'run')} never left the plateau of the unigram model (no validation loss "
        f"{margin:g} nats per note below it): {listed}. Such a model has learned only how often each note occurs: "
        "it failed to train. It is marked in the tables and never selected."
    )


def depth_findings(choice: pd.DataFrame, contrasts: pd.DataFrame) -> str:
    """Chapter 2: the depth answer in words for every (variant, cell): which depths the seeds
    cannot tell apart, which are worse, and the depth the one-standard-error rule keeps.

    Parameters
    ----------
    choice : pandas.DataFrame
        :func:`musiclib.experiments.selection.choose_depths` (num_layers, rule, best_num_layers,
        best_mean_loss, best_se_loss, tied_layers, worse_layers).
    contrasts : pandas.DataFrame
        :func:`musiclib.chapters.layers.depths.depth_contrasts` (num_layers, ci_low).

    Returns
    -------
    str
        Markdown bullets: a count of the chosen depths, then one line per (variant, cell). A depth
        is "worse" when its mean lies more than one standard error above the best mean; the
        paired intervals say for which of those the seeds show it beyond noise (a depth with at
        most one seed in common with the chosen one has none, and the line says so).
    """
    counts = choice.groupby("num_layers").size().sort_index()
    over_seeds = choice[choice["rule"] == ONE_STANDARD_ERROR]
    several = int((over_seeds["tied_layers"].map(len) > 1).sum())
    if over_seeds.empty:
        spread = ("No pair had several trained seeds at any depth, so every choice below is a lowest loss: the "
                  "one-standard-error rule needs seeds.")  # fmt: skip
    elif several:
        spread = (f"In {several} of the {len(over_seeds)} pairs chosen over seeds, several depths tie within one "
                  "standard error of the best mean: the data do not single out one depth there.")  # fmt: skip
    else:
        pairs = "the one pair" if len(over_seeds) == 1 else f"each of the {len(over_seeds)} pairs"
        spread = f"In {pairs} chosen over seeds, the best depth alone lies within one standard error of its mean."
    lines = [
        "Chosen depths: " + ", ".join(f"{_layers(layers)} for {plural(count, 'pair')}" for layers, count in counts.items())
        + f". {spread}"
    ]
    for row in choice.itertuples():
        pair = f"**{row.variant} {row.cell}**"
        if row.rule == NONE_TRAINED:
            lines.append(
                f"{pair}: no run left the start-up plateau, so {_layers(row.num_layers)} is only the lowest loss "
                f"({row.best_mean_loss:.3f} nats per note) of models that learned no more than how often each note occurs."
            )
            continue
        if row.rule == LOWEST_LOSS:
            lines.append(
                f"{pair}: {_layers(row.num_layers)} has the lowest loss ({row.best_mean_loss:.3f} nats per note) on one "
                "seed; the one-standard-error rule needs several seeds, so differences smaller than the "
                "seed-to-seed spread cannot be told apart here."
            )
            continue
        tied = row.tied_layers
        best = f"{_layers(row.best_num_layers)}, {row.best_mean_loss:.3f} ± {row.best_se_loss:.3f} nats per note"
        text = (f"{pair}: {_layers(tied)} tie within one standard error of the best mean ({best})" if len(tied) > 1
                else f"{pair}: only the best depth lies within one standard error of its mean ({best})")  # fmt: skip
        if row.worse_layers:
            pair_contrasts = contrasts[(contrasts["variant"] == row.variant) & (contrasts["cell"] == row.cell)]
            worse = pair_contrasts[pair_contrasts["num_layers"].isin(row.worse_layers)]
            paired, unpaired = worse[worse["n_pairs"] > 1], tuple(worse.loc[worse["n_pairs"] < 2, "num_layers"])
            shown = paired[paired["ci_low"] > 0]
            clauses = [] if paired.empty else [
                f"the paired 95 % interval against {_layers(row.num_layers)} lies above zero for "
                f"{_layers(tuple(shown['num_layers']))}" if len(shown) else "no paired 95 % interval lies wholly above zero"
            ]  # fmt: skip
            if unpaired:
                clauses.append(f"{_layers(unpaired)} {'has' if len(unpaired) == 1 else 'have'} at most one seed in "
                               f"common with {_layers(row.num_layers)}, so no interval")  # fmt: skip
            verb = "is" if len(row.worse_layers) == 1 else "are"
            text += f"; {_layers(row.worse_layers)} {verb} worse" + (f" ({'; '.join(clauses)})" if clauses else "")
        lines.append(text + f". The rule keeps {_layers(row.num_layers)}.")
    return bullets(lines)


def seed_allocation(profile: Any, losses: pd.DataFrame) -> str:
    """Chapter 2: where the further training seeds went, checked against the rule that chose them.

    Parameters
    ----------
    profile : musiclib.experiments.profiles.Profile
        ``[grid] seeds``, ``layers_with_seeds`` and ``seed_margin``.
    losses : pandas.DataFrame
        :func:`musiclib.experiments.selection.final_losses` of the grid.

    Returns
    -------
    str
        One paragraph; empty when the profile repeats every depth alike or states no rule
        (``seed_margin``).
    """
    grid = profile.grid
    if grid.seed_margin is None or not grid.layers_with_seeds:
        return ""
    repeated = {
        (variant, cell): tuple(layers for layers in grid.layers if grid.seed_count(variant, cell, layers) > 1)
        for variant in grid.variants for cell in grid.cells
        if any(grid.seed_count(variant, cell, layers) > 1 for layers in grid.layers)
    }  # fmt: skip
    rule = competing_depths(losses, grid.seed_margin)
    differ = [pair for pair in repeated if pair in rule and rule[pair] != repeated[pair]]
    listed = "; ".join(f"{variant} {cell} {_layers(layers)}" for (variant, cell), layers in repeated.items())
    text = (f"Further training seeds went to the depths that compete ({listed}; one seed at the others). The rule "
            f"that chose them: a depth competes when its first seed's selection loss lies within "
            f"{grid.seed_margin:g} nats per note of the best first seed of its dataset and cell.")  # fmt: skip
    if not differ:
        return text + " On these runs the rule gives the same depths."
    other = "; ".join(f"{variant} {cell} {_layers(rule[(variant, cell)])}" for variant, cell in differ)
    return text + f" On these runs it gives other depths for {plural(len(differ), 'pair')}: {other}."


def _layers(layers) -> str:
    """``"1 layer"``, ``"3 layers"``, ``"4 and 5 layers"``, ``"1 to 3 layers"``, ``"1, 2 and 4 layers"``."""
    layers = (int(layers),) if isinstance(layers, (int, np.integer)) else tuple(int(n) for n in layers)
    if len(layers) == 1:
        return plural(layers[0], "layer")
    consecutive = layers == tuple(range(layers[0], layers[-1] + 1))
    if consecutive and len(layers) > 2:
        return f"{layers[0]} to {layers[-1]} layers"
    return ", ".join(map(str, layers[:-1])) + f" and {layers[-1]} layers"


def chosen_at_cap(rules: pd.DataFrame, losses: pd.DataFrame) -> str:
    """Chapter 2: the runs at the chosen depths that reached their epoch cap still improving.

    Such a run's best validation check was in its last epoch (``hit_cap_improving``): it had not
    converged, so its loss, and the depth chosen with it, could change with a longer cap.

    Parameters
    ----------
    rules : pandas.DataFrame
        :func:`musiclib.chapters.layers.depths.selection_rules` (variant, cell, ours_num_layers).
    losses : pandas.DataFrame
        :func:`musiclib.experiments.selection.final_losses` (variant, cell, num_layers, hit_cap_improving;
        seed, when given, is named).

    Returns
    -------
    str
        One sentence, naming up to :data:`NAMED_RUNS` runs (more are counted per variant).
    """
    chosen = losses.merge(rules[["variant", "cell", "ours_num_layers"]], on=["variant", "cell"])
    chosen = chosen[chosen["num_layers"] == chosen["ours_num_layers"]]
    at_cap = chosen[chosen["hit_cap_improving"].astype(bool)]
    if at_cap.empty:
        return f"None of the {plural(len(chosen), 'run')} at the chosen depths reached its epoch cap still improving."
    if len(at_cap) <= NAMED_RUNS:
        names = "; ".join(row_label(row) for _, row in at_cap.iterrows())
    else:
        names = ", ".join(f"{count} {variant}" for variant, count in at_cap["variant"].value_counts(sort=False).items())
    return (f"{len(at_cap)} of the {plural(len(chosen), 'run')} at the chosen depths reached their epoch cap still "
            f"improving ({names}): their losses, and the depths chosen with them, could change with a longer cap.")


def layer_findings(rules: pd.DataFrame, held_out: pd.DataFrame, losses: pd.DataFrame, profile: Any) -> str:
    """Chapter 2: both selection rules against the paper's choice, the test cross-entropy against
    the n-gram yardsticks, and the best run.

    Parameters
    ----------
    rules : pandas.DataFrame
        :func:`musiclib.chapters.layers.depths.selection_rules` (ours_num_layers, paper_rule_num_layers,
        common_epoch, published_num_layers, rules_agree).
    held_out : pandas.DataFrame
        :func:`musiclib.chapters.layers.yardsticks.held_out_table` (test_nll, bigram, kn, kn_order, beats_kn).
    losses : pandas.DataFrame
        :func:`musiclib.experiments.selection.final_losses` (selection_loss, hit_cap_improving).
    profile : musiclib.experiments.profiles.Profile
        The profile built; models smaller than the paper's get a caveat.

    Returns
    -------
    str
        Markdown bullets. A model "beats" Kneser-Ney when its paired 95 % interval of the
        difference lies wholly below zero.
    """
    ours_published, rule_published = (
        int((rules[column] == rules["published_num_layers"]).sum()) for column in ("ours_num_layers", "paper_rule_num_layers")
    )
    epochs = ", ".join(map(str, sorted(rules["common_epoch"].dropna().astype(int).unique())))
    beat_kn, beat_bigram = int(held_out["beats_kn"].sum()), int((held_out["test_nll"] < held_out["bigram"]).sum())
    orders = ", ".join(f"{order} ({variant})" for variant, order in held_out.groupby("variant", sort=False)["kn_order"].first().items())
    best = losses.loc[losses["selection_loss"].idxmin()]
    best_test = held_out.loc[held_out["test_nll"].idxmin()]
    lines = [
        f"Our rule (one standard error over seeds) and the paper's rule at a common epoch (the lowest training loss "
        f"after the epochs every run of the pair completed: {epochs}; the paper compared its curves after 300) pick "
        f"the same layer count for {int(rules['rules_agree'].sum())} of the {len(rules)} dataset-cell pairs. Against "
        f"the paper's published choice (known for {int(rules['published_num_layers'].notna().sum())} pairs), ours "
        f"agrees {plural(ours_published, 'time')}, the paper's rule {plural(rule_published, 'time')}.",
        f"On the test songs, {beat_kn} of the {len(held_out)} selected models predict the next note better than "
        f"interpolated Kneser-Ney (order chosen on validation: {orders}) beyond sampling noise, and {beat_bigram} "
        "better than the bigram model"
        + ("." if beat_bigram == len(held_out) else f"; {'the others have not' if beat_bigram else 'none has'} yet learned more "
           "than which note tends to follow which."),
        f"The lowest test cross-entropy is {best_test['test_nll']:.3f} nats per note ({row_label(best_test)}); the lowest "
        f"selection loss of any run {best['selection_loss']:.3f} ({row_label(best)}).",
        chosen_at_cap(rules, losses),
    ]
    if profile.train.rnn_size < published.value("rnn_size"):
        lines.append(
            f"With the **{profile.name}** profile the models are small ({profile.train.rnn_size} units against the "
            f"paper's {published.value('rnn_size')}), so deeper stacks have had little chance to pay off."
        )
    return bullets(lines)
