"""The "What we found" sentences of the embeddings chapter (paper 2), computed from the test tables.

Each function takes the tables of :mod:`musiclib.chapters.embeddings.study` / :mod:`musiclib.measures.embedding_tests`
and returns Markdown whose conclusions follow from the Holm-corrected, frequency-matched tests, so
that the text stays true whatever profile the book is built with.

Notebook: 04_embeddings.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from musiclib.data.sequences import token_label
from musiclib.outputs.prose import SIGNIFICANCE, bullets, plural


def projector_help(folders: dict, runs_dir: str | Path | None = None) -> str:
    """Chapter 4: where the TensorBoard projector files are and how to open them.

    Parameters
    ----------
    folders : dict of str to pathlib.Path or None
        :func:`musiclib.chapters.embeddings.study.projector_folders`.
    runs_dir : path-like, optional
        The runs folder: folders inside it are shown from its name on (``runs/quick/control/...``),
        not from this machine's root, so that a published page names no path of the machine it was
        executed on.

    Returns
    -------
    str
    """

    def shown(folder: Path) -> Path:
        if runs_dir is not None and Path(folder).is_relative_to(runs_dir):
            return Path(runs_dir).name / Path(folder).relative_to(runs_dir)
        return folder

    lines = [
        f"- {variant}: `{shown(folder)}`" if folder is not None else f"- {variant}: no projector file found"
        for variant, folder in folders.items()
    ]
    return "\n".join(lines) + "\n\nthen run `tensorboard --logdir <folder>` and open the *Projector* tab."


def embedding_test_intro(family: pd.DataFrame, n_permutations: int, alpha: float = SIGNIFICANCE) -> str:
    """Chapter 4: how many tests each variant's family holds and the smallest Holm p-value the shuffles allow.

    Parameters
    ----------
    family : pandas.DataFrame
        :func:`musiclib.chapters.embeddings.study.variant_tests` (column ``variant``).
    n_permutations : int
        Shuffles per test.
    alpha : float

    Returns
    -------
    str
        With m tests and n shuffles the smallest p-value is 1 / (1 + n) and Holm multiplies the
        smallest by m, where m counts the trained embedding's tests (the untrained embedding's
        form a separate family of the same size); the sentence says whether that can reach ``alpha``.
    """
    sizes = family[family["embedding"] == "trained"].groupby("variant", sort=False).size()
    floor = sizes.max() / (1 + n_permutations)
    return (
        f"Each test shuffles the labels {n_permutations:,} times, so no p-value is below 1 / {n_permutations + 1:,}; "
        "Holm's correction runs over each variant's trained-embedding tests ("
        + ", ".join(f"{variant}: {count} tests" for variant, count in sizes.items())
        + f"), so the smallest corrected p-value is {floor:.3f}"
        + (f", below the {alpha:.0%} level." if floor <= alpha else f", above the {alpha:.0%} level: no test can be significant with this profile.")
        + " The untrained embedding's tests are a reference, corrected as a family of their own."
    )


def _settings_count(rows: pd.DataFrame, null: str) -> tuple[int, int]:
    """(Holm-significant settings, settings) of one relation's tests under ``null``."""
    chosen = rows[rows["null"] == null]
    return int(chosen["significant"].sum()), len(chosen)


def _relation_verdict(relation: str, trained: pd.DataFrame, untrained: pd.DataFrame) -> str:
    """The verdict on one relation of one variant, in words: see :func:`embedding_findings`."""
    plural = f"{relation}s"
    free, frequency = _settings_count(trained, "free"), _settings_count(trained, "frequency")
    register = _settings_count(trained, "frequency+register") if "frequency+register" in set(trained["null"]) else None
    counted = f"{frequency[0]} of {frequency[1]} (k, distance) settings against the frequency-matched null"
    if register is not None:
        counted += f", {register[0]} of {register[1]} against the frequency-and-register-matched null"
    if frequency[0] == 0:
        if register is not None and register[0] > 0:
            beaten = ([f"free shuffles ({free[0]} of {free[1]} settings)"] if free[0] > 0 else []) + [
                f"the frequency-and-register-matched null ({register[0]} of {register[1]})"
            ]
            return (
                f"{plural} beat {' and '.join(beaten)} but not the frequency-matched null (0 of {frequency[1]}): "
                "the evidence depends on the null, so it is not counted"
            )
        if free[0] > 0:
            return (
                f"{plural} look clustered against free shuffles ({free[0]} of {free[1]} settings) but not against "
                "tokens of the same frequency: frequency alone can explain them"
            )
        return f"{plural}: no evidence under any null (0 of {free[1]} settings)"
    if register is not None and register[0] == 0:
        return f"{plural} cluster beyond frequency ({counted}) but not beyond register: closeness in pitch may explain them"
    untrained_count = _settings_count(untrained, "frequency")
    if untrained_count[0] > 0:
        return (
            f"{plural} cluster beyond frequency ({counted}), but the untrained embedding shows them too "
            f"({untrained_count[0]} of {untrained_count[1]}): training did not put them there"
        )
    return f"{plural} cluster beyond what frequency explains ({counted}; untrained embedding: 0 of {untrained_count[1]})"


def transposition_findings(test: pd.DataFrame, alpha: float = SIGNIFICANCE) -> str:
    """Chapter 4: does transposition change the octave and fifth relations? The between-variant test in words.

    Parameters
    ----------
    test : pandas.DataFrame
        :func:`musiclib.chapters.embeddings.study.transposition_test` (index relation; columns
        shared_tokens, k, difference, ci_low, ci_high, p_holm).
    alpha : float
        Family-wise level of the Holm-corrected p-values.

    Returns
    -------
    str
        One sentence; a relation counts as changed when its Holm-corrected p-value is at most
        ``alpha``; one whose uncorrected bootstrap interval excludes 0 while the corrected test
        does not reach ``alpha`` is called suggestive only; the interval says how large a change
        the data leave open. Empty when there is no test (a grid without control or DB12).
    """
    if test.empty:
        return ""
    first = test.iloc[0]
    parts = []
    for relation, row in test.iterrows():
        if row["p_holm"] <= alpha:
            verdict = f"DB12 puts {'more' if row['difference'] > 0 else 'fewer'} {relation}s among a pitch's neighbours"
        elif row["ci_low"] > 0 or row["ci_high"] < 0:
            verdict = f"suggestive only (the interval, not corrected for {plural(len(test), 'relation')}, excludes 0; the corrected test does not)"
        else:
            verdict = "no detectable change"
        parts.append(
            f"{relation}s {row['difference']:+.3f} (95% interval {row['ci_low']:+.3f} to {row['ci_high']:+.3f}, "
            f"p Holm {row['p_holm']:.3f}): {verdict}"
        )
    changed = (test["p_holm"] <= alpha).any()
    return (
        f"Transposition tested directly (DB12 - control: the share of a pitch's {int(first['k'])} nearest neighbours "
        f"in the relation, over the {int(first['shared_tokens'])} pitches both vocabularies hold, "
        f"Holm over {plural(len(test), 'relation')}): " + "; ".join(parts)
        + (". Transposition changes what the embedding encodes." if changed else ". No sign that transposition changes these relations.")
    )


def paper_example_findings(statements: pd.DataFrame) -> str:
    """Chapter 4: whether paper 2's own neighbour statements (C3 as C4's nearest neighbour, ...) hold in our embeddings.

    Parameters
    ----------
    statements : pandas.DataFrame
        :func:`musiclib.chapters.embeddings.study.paper_statements` (columns variant, text,
        statement, paper_rank, paper_holds, our_token, our_rank, ours_holds).

    Returns
    -------
    str
        The paper's nearest neighbour of each query (among the tokens both vocabularies hold)
        and its rank in ours, then how many of the statements that hold in the paper's lists
        hold in ours, naming those that do not, and the statements that hold only in ours.
    """
    nearest = statements[statements["statement"] == "nearest"]
    sentences = [
        f"{row.variant}: {row.text} in the paper's list (rank {int(row.paper_rank)} there"
        + (", the closer ones lying outside our vocabulary" if row.paper_rank > 1 else "")
        + "), "
        + ("and in ours too" if row.ours_holds else f"not in ours (rank {int(row.our_rank)})")
        for row in nearest.itertuples()
    ]
    claimed = statements[statements["paper_holds"]]
    failed = claimed[~claimed["ours_holds"]]
    only_ours = statements[~statements["paper_holds"] & statements["ours_holds"]]
    summary = f"{int(claimed['ours_holds'].sum())} of the {len(claimed)} statements the paper's lists show hold in our embeddings"
    if len(failed):
        summary += " (not: " + "; ".join(f"{row.variant}, {row.text}" for row in failed.itertuples()) + ")"
    if len(only_ours):
        summary += "; ours also show what the paper's lists do not: " + "; ".join(
            f"{row.variant}, {row.text} ({token_label(int(row.our_token), row.variant)})" for row in only_ours.itertuples()
        )
    return "Paper 2's neighbour lists, read without the notes our vocabulary lacks: " + "; ".join(sentences) + ". " + summary[0].upper() + summary[1:] + "."


def _layouts_phrase(rows: pd.DataFrame) -> str:
    """``"control: 15 layouts, 15 distinct (perplexities 4, 8, 12)"``: one variant's t-SNE layouts."""
    first = rows.iloc[0]
    clipped = f"; {', '.join(f'{p:g}' for p in first['clipped'])} clipped to the cap {first['perplexity_cap']:.3g}" if len(first["clipped"]) else ""
    return (
        f"{first['variant']}: {plural(int(first['n_layouts']), 'layout')}, {int(first['distinct_layouts'])} distinct "
        f"(perplexities {', '.join(f'{p:.3g}' for p in first['perplexities'])}{clipped})"
    )


def embedding_findings(
    family: pd.DataFrame,
    transposition: pd.DataFrame,
    stability: pd.DataFrame,
    statements: pd.DataFrame,
    alpha: float = SIGNIFICANCE,
) -> str:
    """Chapter 4: which relations each embedding encodes, whether transposition changes them,
    whether the t-SNE neighbour statements hold up and whether paper 2's own example reproduces.

    Parameters
    ----------
    family : pandas.DataFrame
        :func:`musiclib.chapters.embeddings.study.variant_tests` (columns variant, embedding, null,
        distance, k, relation, ratio, p_holm, significant).
    transposition : pandas.DataFrame
        :func:`musiclib.chapters.embeddings.study.transposition_test` (see :func:`transposition_findings`).
    stability : pandas.DataFrame
        :func:`musiclib.chapters.embeddings.study.stability` (columns variant, query, relation, k,
        in_embedding, share_of_layouts, n_layouts, distinct_layouts, perplexities,
        perplexity_cap, clipped).
    statements : pandas.DataFrame
        :func:`musiclib.chapters.embeddings.study.paper_statements` (see :func:`paper_example_findings`).
    alpha : float
        The family-wise level the tests were run at (stated in the text).

    Returns
    -------
    str
        Markdown bullets. A relation counts as encoded by a variant's trained embedding only
        when its Holm-corrected test against the frequency-matched null is significant in at
        least one (k, distance) setting, for pitch variants also against the
        frequency-and-register-matched null, and the untrained embedding (a reference, its own
        Holm family) shows it in none: every other case is named with its likely explanation
        (frequency, register, initialisation). Whether transposition changes a relation is
        read from the between-variant test alone.
    """
    lines = []
    for variant, rows in family.groupby("variant", sort=False):
        verdicts = []
        for relation, tests in rows.groupby("relation", sort=False):
            verdicts.append(_relation_verdict(relation, tests[tests["embedding"] == "trained"], tests[tests["embedding"] == "untrained"]))
        trained = int((rows["embedding"] == "trained").sum())
        lines.append(
            f"**{variant}** (Holm over its {plural(trained, 'trained-embedding test')}, family-wise {alpha:.0%}): "
            + "; ".join(verdicts) + "."
        )
    if not transposition.empty:
        lines.append(transposition_findings(transposition, alpha))
    if len(stability):
        agrees = stability["share_of_layouts"].where(stability["in_embedding"], 1 - stability["share_of_layouts"])
        unstable = stability[agrees < 1]
        layouts = "; ".join(_layouts_phrase(rows) for _, rows in stability.groupby("variant", sort=False))
        line = (
            f"t-SNE from random starts ({layouts}; distinct: not the same picture after Procrustes alignment): "
            f"{int((agrees == 1).sum())} of {plural(len(stability), 'neighbour statement')} read the same in every "
            "layout as in the full embedding"
        )
        if len(unstable):
            line += "; not so for " + "; ".join(
                f"the {row.relation} of {token_label(int(row.query), row.variant)} in {row.variant} "
                f"({'holds' if row.in_embedding else 'fails'} in the embedding, shown in {row.share_of_layouts:.0%} of the layouts)"
                for row in unstable.itertuples()
            ) + ": a single t-SNE picture does not settle these"
        lines.append(line + ".")
    if len(statements):
        lines.append(paper_example_findings(statements))
    return bullets(lines)
