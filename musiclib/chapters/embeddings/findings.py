"""The "What we found" sentences of the embeddings chapter (paper 2), computed from the test tables.

Each function takes the tables of :mod:`musiclib.chapters.embeddings.study` / :mod:`musiclib.measures.embedding_tests`
and returns Markdown whose conclusions follow from the Holm-corrected, frequency-matched tests, so
that the text stays true whatever profile the book is built with.

Notebook: 04_embeddings.
"""

from __future__ import annotations

import pandas as pd

from musiclib.outputs.prose import SIGNIFICANCE, bullets, plural


def projector_help(folders: dict) -> str:
    """Chapter 4: where the TensorBoard projector files are and how to open them.

    Parameters
    ----------
    folders : dict of str to pathlib.Path or None
        :func:`musiclib.chapters.embeddings.study.projector_folders`.

    Returns
    -------
    str
    """
    lines = [
        f"- {variant}: `{folder}`" if folder is not None else f"- {variant}: no projector file found"
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
        smallest by m; the sentence says whether that can reach ``alpha``.
    """
    sizes = family.groupby("variant", sort=False).size()
    floor = sizes.max() / (1 + n_permutations)
    return (
        f"Each test shuffles the labels {n_permutations:,} times, so no p-value is below 1 / {n_permutations + 1:,}; "
        "Holm's correction runs over each variant's family ("
        + ", ".join(f"{variant}: {count} tests" for variant, count in sizes.items())
        + f"), so the smallest corrected p-value is {floor:.3f}"
        + (f", below the {alpha:.0%} level." if floor <= alpha else f", above the {alpha:.0%} level: no test can be significant with this profile.")
    )


def _settings_count(rows: pd.DataFrame, null: str) -> tuple[int, int]:
    """(Holm-significant settings, settings) of one relation's tests under ``null``."""
    chosen = rows[rows["null"] == null]
    return int(chosen["significant"].sum()), len(chosen)


def _relation_verdict(relation: str, trained: pd.DataFrame, untrained: pd.DataFrame) -> tuple[bool, str]:
    """(supported, sentence) for one relation of one variant: see :func:`embedding_findings`."""
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
            return False, (
                f"{plural} beat {' and '.join(beaten)} but not the frequency-matched null (0 of {frequency[1]}): "
                "the evidence depends on the null, so it is not counted"
            )
        if free[0] > 0:
            return False, (
                f"{plural} look clustered against free shuffles ({free[0]} of {free[1]} settings) but not against "
                "tokens of the same frequency: frequency alone can explain them"
            )
        return False, f"{plural}: no evidence under any null (0 of {free[1]} settings)"
    if register is not None and register[0] == 0:
        return False, f"{plural} cluster beyond frequency ({counted}) but not beyond register: closeness in pitch may explain them"
    untrained_count = _settings_count(untrained, "frequency")
    if untrained_count[0] > 0:
        return False, (
            f"{plural} cluster beyond frequency ({counted}), but the untrained embedding shows them too "
            f"({untrained_count[0]} of {untrained_count[1]}): training did not put them there"
        )
    return True, f"{plural} cluster beyond what frequency explains ({counted}; untrained embedding: 0 of {untrained_count[1]})"


def _transposition_sentence(relation: str, supported: dict) -> str:
    """Does DB12 (transposed to C) encode ``relation`` where control does not, or the reverse?"""
    control, db12 = supported[("control", relation)], supported[("db12", relation)]
    interval = supported.get(("interval", relation))
    tail = "" if interval is None else f" (interval: {'encoded' if interval else 'not shown'})"
    if control and db12:
        return f"{relation.capitalize()} relations are encoded in both control and DB12{tail}: transposition keeps them."
    if not control and not db12:
        return f"{relation.capitalize()} relations are shown in neither control nor DB12{tail}: no sign that transposition changes them."
    where, not_where = ("DB12", "control") if db12 else ("control", "DB12")
    return (
        f"{relation.capitalize()} relations are encoded in {where} but not shown in {not_where}{tail}: transposition may change "
        "them (one significant and one not significant result is not itself a test of the difference)."
    )


def embedding_findings(family: pd.DataFrame, stability: pd.DataFrame, alpha: float = SIGNIFICANCE) -> str:
    """Chapter 4: which relations each embedding encodes, whether transposition changes them, and
    whether the t-SNE neighbour statements hold up.

    Parameters
    ----------
    family : pandas.DataFrame
        :func:`musiclib.chapters.embeddings.study.variant_tests` (columns variant, embedding, null,
        distance, k, relation, ratio, p_holm, significant).
    stability : pandas.DataFrame
        :func:`musiclib.chapters.embeddings.study.stability` (columns variant, query, relation, k,
        in_embedding, share_of_layouts, n_layouts).
    alpha : float
        The family-wise level the tests were run at (stated in the text).

    Returns
    -------
    str
        Markdown bullets. A relation counts as encoded by a variant's trained embedding only
        when its Holm-corrected test against the frequency-matched null is significant in at
        least one (k, distance) setting, for pitch variants also against the
        frequency-and-register-matched null, and the untrained embedding shows it in none:
        every other case is named with its likely explanation (frequency, register,
        initialisation).
    """
    from musiclib.data.sequences import token_label

    lines, supported = [], {}
    for variant, rows in family.groupby("variant", sort=False):
        verdicts = []
        for relation, tests in rows.groupby("relation", sort=False):
            ok, sentence = _relation_verdict(relation, tests[tests["embedding"] == "trained"], tests[tests["embedding"] == "untrained"])
            supported[(variant, relation)] = ok
            verdicts.append(sentence)
        lines.append(f"**{variant}** (Holm over its {plural(len(rows), 'test')}, family-wise {alpha:.0%}): " + "; ".join(verdicts) + ".")
    for relation in ("octave", "fifth"):
        if ("control", relation) in supported and ("db12", relation) in supported:
            lines.append(_transposition_sentence(relation, supported))
    if len(stability):
        agrees = stability["share_of_layouts"].where(stability["in_embedding"], 1 - stability["share_of_layouts"])
        unstable = stability[agrees < 1]
        layouts = int(stability["n_layouts"].iloc[0])
        line = (
            f"t-SNE: {int((agrees == 1).sum())} of {plural(len(stability), 'neighbour statement')} read the same in all "
            f"{layouts} t-SNE layouts as in the full embedding"
        )
        if len(unstable):
            line += "; not so for " + "; ".join(
                f"the {row.relation} of {token_label(int(row.query), row.variant)} in {row.variant} "
                f"({'holds' if row.in_embedding else 'fails'} in the embedding, shown in {row.share_of_layouts:.0%} of the layouts)"
                for row in unstable.itertuples()
            ) + ": a single t-SNE picture does not settle these"
        lines.append(line + ".")
    return bullets(lines)
