"""Chapter 2's tables: training settings, final losses, the selection rules, the paper's curves and
the held-out test set.
"""

from __future__ import annotations

import pandas as pd

from musiclib import published
from musiclib.experiments.grid import grid_points
from musiclib.experiments.profiles import Profile
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


def final_loss_table(losses: pd.DataFrame) -> pd.DataFrame:
    """Chapter 2: each run's lowest validation loss (its best weights), rows (variant, cell), one
    column per layer count.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.experiments.selection.final_losses`.

    Returns
    -------
    pandas.DataFrame
    """
    table = losses.pivot_table(index=["variant", "cell"], columns="num_layers", values="best_val_loss", sort=False)
    table.columns = [f"{layers} layer{'s' if layers > 1 else ''}" for layers in table.columns]
    return table.reset_index()


def selection_rules_table(rules: pd.DataFrame) -> pd.DataFrame:
    """Chapter 2: the layer count of our rule, of the paper's rule and the paper's published choice.

    Parameters
    ----------
    rules : pandas.DataFrame
        :func:`musiclib.chapters.layers.yardsticks.selection_rules`.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame({
        "dataset": rules["variant"],
        "cell": rules["cell"],
        "ours: lowest validation loss": rules["ours_num_layers"],
        "validation loss": rules["ours_val_loss"],
        "paper's rule: lowest training loss": rules["paper_rule_num_layers"],
        "training loss": rules["paper_rule_train_loss"],
        "rules agree": yes_no(rules["rules_agree"]),
        "published choice": rules["published_num_layers"],
    })


def published_curve_table(losses: pd.DataFrame) -> pd.DataFrame:
    """Chapter 2: the paper's final control-LSTM training losses next to ours, per layer count.

    Parameters
    ----------
    losses : pandas.DataFrame
        :func:`musiclib.experiments.selection.final_losses`.

    Returns
    -------
    pandas.DataFrame
    """
    paper = published.table("control_lstm_learning_curve")[["num_layers", "train_loss"]]
    ours = losses[(losses["variant"] == "control") & (losses["cell"] == "lstm")][["num_layers", "train_loss", "val_loss"]]
    table = paper.merge(ours, on="num_layers", how="outer", suffixes=(" (paper)", " (ours)"))
    table.columns = ["layers", "training loss (paper)", "training loss (ours)", "validation loss (ours)"]
    return table


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
