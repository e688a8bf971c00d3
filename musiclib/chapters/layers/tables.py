"""Chapter 2's tables: training settings, every depth over its seeds, the one-standard-error choice
and the paired depth contrasts, the selection rules, the paper's curve and the held-out test set.
"""

from __future__ import annotations

import pandas as pd

from musiclib import published
from musiclib.experiments.grid import grid_points
from musiclib.experiments.profiles import Profile
from musiclib.outputs.plotting import matching_rows
from musiclib.outputs.prose import plural
from musiclib.outputs.tables import interval_text, yes_no

VARIANT_ORDER = ("control", "interval", "db12")


def training_settings_table(profile: Profile) -> pd.DataFrame:
    """Chapter 2: the profile's grid and training recipe next to the paper's.

    Parameters
    ----------
    profile : Profile

    Returns
    -------
    pandas.DataFrame
        Columns setting, this book, paper.
    """
    recipe, value = profile.train, published.value
    return pd.DataFrame([
        ("runs", len(grid_points(profile)), value("experiments")),
        ("layer counts", ", ".join(map(str, profile.grid.layers)), ", ".join(map(str, value("layers_tried")))),
        ("training seeds per layer count", seeds_text(profile), 1),
        ("units per layer (= embedding size)", recipe.rnn_size, value("embedding_size")),
        ("batch size x sequence length (notes)", f"{recipe.batch_size} x {recipe.seq_length}",
         f"{value('batch_size')} x {value('seq_length')}"),
        ("epochs (control / interval / DB12)",
         " / ".join(str(recipe.for_variant(v).num_epochs) if v in profile.grid.variants else "-" for v in VARIANT_ORDER),
         " / ".join(str(value("num_epochs")[v]) for v in VARIANT_ORDER)),
        ("learning rate (decay per epoch)", f"{recipe.learning_rate} (x{recipe.decay_rate})",
         f"{value('learning_rate')} (x{value('decay_rate')})"),
        ("gradient norm clipped at", f"{recipe.grad_clip:g}", f"{value('grad_clip'):g}"),
    ], columns=["setting", "this book", "paper"])


def seeds_text(profile: Profile) -> str:
    """The grid's training seeds per point for people: ``"3"``, or ``"3 control / 3 interval / 1 db12
    (control: 1, 2, 3 layers; interval: lstm 1, 2, 3 layers, nas 1, 2 layers; 1 at the others)"``.

    Parameters
    ----------
    profile : Profile
        ``[grid] seeds`` and ``layers_with_seeds``.

    Returns
    -------
    str
    """
    grid = profile.grid
    counts = {
        variant: max(grid.seed_count(variant, cell, layers) for cell in grid.cells for layers in grid.layers)
        for variant in grid.variants
    }
    text = (str(next(iter(counts.values()))) if len(set(counts.values())) == 1
            else " / ".join(f"{count} {variant}" for variant, count in counts.items()))  # fmt: skip

    def depths(layers: tuple[int, ...]) -> str:
        return f"{', '.join(map(str, layers))} layer{'s' if len(layers) > 1 or layers[0] != 1 else ''}"

    limited = []
    for variant, repeated in grid.layers_with_seeds.items():
        by_cell = repeated if isinstance(repeated, dict) else {None: repeated}
        parts = [f"{'' if cell is None else cell + ' '}{depths(layers)}" for cell, layers in by_cell.items()
                 if set(grid.layers) - set(layers)]  # fmt: skip
        if counts[variant] > 1 and parts:
            limited.append(f"{variant}: {', '.join(parts)}")
    return text + (f" ({'; '.join(limited)}; 1 at the others)" if limited else "")


def depth_table(summary: pd.DataFrame, selection: pd.DataFrame) -> pd.DataFrame:
    """Chapter 2: every depth's selection loss over its training seeds, rows (variant, cell), one
    column per layer count.

    Each cell reads ``mean ± sd (n)``: the mean selection loss of the seeds whose runs trained,
    their standard deviation (left out for one seed) and their number, ``(n of m trained)`` when
    some of its ``m`` runs never left the start-up plateau (they are left out of the mean), or
    ``never trained`` beside the mean of its runs when none did; ``*`` marks the chosen depth, and
    square brackets count the restarts its runs took.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`musiclib.experiments.selection.depth_summary`.
    selection : pandas.DataFrame
        :func:`musiclib.experiments.selection.select_layers` (variant, cell, num_layers).

    Returns
    -------
    pandas.DataFrame
        Columns dataset, cell, then ``1 layer``, ``2 layers``, ... (text).
    """
    chosen = set(zip(selection["variant"], selection["cell"], selection["num_layers"].astype(int)))
    cells = summary.assign(
        text=[_depth_text(row, (row.variant, row.cell, int(row.num_layers)) in chosen) for row in summary.itertuples()]
    )
    table = cells.pivot(index=["variant", "cell"], columns="num_layers", values="text").fillna("")
    table = table.reindex(list(dict.fromkeys(zip(summary["variant"], summary["cell"]))))
    table.columns = [_layers_column(layers) for layers in table.columns]
    return table.rename_axis(index=["dataset", "cell"], columns=None).reset_index()


def _depth_text(row, chosen: bool) -> str:
    """``1.716 ± 0.012 (3)*``, ``1.718 ± 0.020 (2 of 3 trained) [2 restarts]`` or ``2.351, never
    trained (3 runs)`` (the mean of those runs) for one row of :func:`depth_summary`."""
    if row.n_seeds == 0:
        text = f"{row.mean_loss:.3f}, never trained ({plural(row.n_runs, 'run')})"
    else:
        seeds = f"{row.n_seeds}" if row.n_seeds == row.n_runs else f"{row.n_seeds} of {row.n_runs} trained"
        text = f"{_mean_sd(row.mean_loss, row.sd_loss)} ({seeds})"
    return text + ("*" if chosen else "") + (f" [{plural(row.restarts, 'restart')}]" if row.restarts else "")


def _mean_sd(mean: float, sd: float) -> str:
    """``1.716 ± 0.012``, or ``1.716`` without a standard deviation (nats per note)."""
    return f"{mean:.3f}" + ("" if pd.isna(sd) else f" ± {sd:.3f}")


def _layers_column(layers: int) -> str:
    return f"{layers} layer{'s' if layers > 1 else ''}"


def depth_choice_table(choice: pd.DataFrame) -> pd.DataFrame:
    """Chapter 2: the one-standard-error rule at work for every (variant, cell).

    Parameters
    ----------
    choice : pandas.DataFrame
        :func:`musiclib.experiments.selection.choose_depths`.

    Returns
    -------
    pandas.DataFrame
        Columns dataset, cell, lowest mean (its layer count), best mean ± SE, threshold (nats per
        note), within one SE, chosen, rule.
    """
    return pd.DataFrame({
        "dataset": choice["variant"],
        "cell": choice["cell"],
        "lowest mean at": choice["best_num_layers"],
        "its mean ± SE": [_mean_sd(mean, se) for mean, se in zip(choice["best_mean_loss"], choice["best_se_loss"])],
        "threshold": choice["threshold"],
        "layers within one SE": [", ".join(map(str, layers)) for layers in choice["tied_layers"]],
        "chosen": choice["num_layers"],
        "rule": choice["rule"],
    })


def depth_contrast_table(contrasts: pd.DataFrame) -> pd.DataFrame:
    """Chapter 2: every depth minus the chosen one, paired by seed.

    Parameters
    ----------
    contrasts : pandas.DataFrame
        :func:`musiclib.chapters.layers.depths.depth_contrasts`.

    Returns
    -------
    pandas.DataFrame
        Differences in nats per note; intervals as text (blank with fewer than two pairs).
    """
    return pd.DataFrame({
        "dataset": contrasts["variant"],
        "cell": contrasts["cell"],
        "layers": contrasts["num_layers"],
        "against": contrasts["chosen_num_layers"],
        "seeds paired": contrasts["n_pairs"],
        "difference": contrasts["difference"],
        "95% t interval": [
            "" if pd.isna(low) else text
            for low, text in zip(contrasts["ci_low"], interval_text(contrasts["ci_low"], contrasts["ci_high"], 3))
        ],
        "worse beyond noise": yes_no(contrasts["ci_low"] > 0),
    })


def selection_rules_table(rules: pd.DataFrame) -> pd.DataFrame:
    """Chapter 2: the layer count of our rule, of the paper's rule at a common epoch and the
    paper's published choice.

    Parameters
    ----------
    rules : pandas.DataFrame
        :func:`musiclib.chapters.layers.depths.selection_rules`.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "dataset": rules["variant"],
        "cell": rules["cell"],
        "ours: one SE over seeds": rules["ours_num_layers"],
        "mean selection loss": rules["ours_mean_loss"],
        "paper's rule: lowest training loss": rules["paper_rule_num_layers"],
        "at epoch": rules["common_epoch"],
        "training loss": rules["paper_rule_train_loss"],
        "rules agree": yes_no(rules["rules_agree"]),
        "published choice": rules["published_num_layers"],
    })


def published_curve_table(at_epoch: pd.DataFrame, summary: pd.DataFrame) -> pd.DataFrame:
    """Chapter 2: the paper's control-LSTM training losses after 300 epochs next to ours at the
    common epoch, per layer count.

    Parameters
    ----------
    at_epoch : pandas.DataFrame
        :func:`musiclib.chapters.layers.depths.training_loss_at_common_epoch`.
    summary : pandas.DataFrame
        :func:`musiclib.experiments.selection.depth_summary`.

    Returns
    -------
    pandas.DataFrame
        Columns layers, the paper's training loss (last value and TensorBoard-smoothed), ours at
        the common epoch (mean ± sd over seeds), that epoch, and our selection loss (mean ± sd);
        nats per note.
    """
    paper = published.table("control_lstm_learning_curve")[["num_layers", "train_loss", "train_loss_smoothed"]]
    control_lstm = {"variant": "control", "cell": "lstm"}
    ours = matching_rows(at_epoch, control_lstm).merge(
        matching_rows(summary, control_lstm), on=["variant", "cell", "num_layers"]
    )
    table = paper.merge(ours, on="num_layers", how="outer")
    return pd.DataFrame({
        "layers": table["num_layers"],
        "training loss, epoch 300 (paper)": table["train_loss"],
        "smoothed (paper)": table["train_loss_smoothed"],
        "training loss (ours)": [
            "" if pd.isna(mean) else _mean_sd(mean, sd) for mean, sd in zip(table["mean_train_loss"], table["sd_train_loss"])
        ],
        "at epoch": ["" if pd.isna(epoch) else str(int(epoch)) for epoch in table["common_epoch"]],
        "selection loss (ours)": [
            "" if pd.isna(mean) else _mean_sd(mean, sd) for mean, sd in zip(table["mean_loss"], table["sd_loss"])
        ],
    })


def held_out_display(held_out: pd.DataFrame) -> pd.DataFrame:
    """Chapter 2: each selected model's test cross-entropy beside the n-gram yardsticks.

    Parameters
    ----------
    held_out : pandas.DataFrame
        :func:`musiclib.chapters.layers.yardsticks.held_out_table`.

    Returns
    -------
    pandas.DataFrame
        Cross-entropies in nats per note; intervals as text.
    """
    return pd.DataFrame({
        "dataset": held_out["variant"],
        "cell": held_out["cell"],
        "layers": held_out["num_layers"],
        "model": held_out["test_nll"],
        "95% CI of the model": interval_text(held_out["ci_low"], held_out["ci_high"], 3),
        "unigram": held_out["unigram"],
        "bigram": held_out["bigram"],
        "Kneser-Ney": held_out["kn"],
        "KN order": held_out["kn_order"],
        "model - KN": held_out["diff_vs_kn"],
        "95% CI of the difference": interval_text(held_out["diff_low"], held_out["diff_high"], 3),
        "beats KN": yes_no(held_out["beats_kn"]),
    })
