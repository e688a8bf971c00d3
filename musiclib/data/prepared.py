"""Prepared data on disk: the folder ``python -m musiclib prepare --out`` writes, and reading it back.

One folder per preparation::

    melodies.json             id, pitches, durations per split
    <variant>/sequences.json  token sequences per split and ``dropped_unknown``
    <variant>/vocab.json      the training split's vocabulary (:meth:`Vocabulary.save`)
    report.json               written last: marks the folder complete

for the variants control / interval / db12. Every file is written atomically. Loading music in is
:mod:`musiclib.data.corpus` (its :func:`~musiclib.data.corpus.prepare` calls :func:`write_variants`).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from musiclib.common.files import write_json_atomic
from musiclib.data.sequences import (
    SPLIT_NAMES,
    VARIANTS,
    DataError,
    Splits,
    VariantData,
    Vocabulary,
    check_variant,
    prepare_variant,
)

REPORT_FILE = "report.json"
MELODIES_FILE = "melodies.json"
SEQUENCES_FILE = "sequences.json"
VOCAB_FILE = "vocab.json"


def write_variants(out_dir: str | os.PathLike, splits: Splits) -> dict[str, dict]:
    """Write the melodies of every split and each variant's sequences and vocabulary.

    Parameters
    ----------
    out_dir : str or path
        The folder to write (created if needed). :func:`~musiclib.data.corpus.prepare` writes
        ``report.json`` after this returns.
    splits : Splits
        Melodies per split (:func:`~musiclib.data.sequences.split_melodies`).

    Returns
    -------
    dict
        Per variant: ``vocab_size``, ``token_range`` (lowest and highest token), ``sequences`` (per
        split), ``train_tokens`` and ``dropped_unknown`` (per split).
    """
    out_dir = Path(out_dir)
    write_json_atomic(
        out_dir / MELODIES_FILE,
        {name: [asdict(melody) for melody in melodies] for name, melodies in splits.items()},
    )
    summaries = {}
    for variant in VARIANTS:
        variant_data = prepare_variant(splits, variant)
        write_json_atomic(
            out_dir / variant / SEQUENCES_FILE,
            {
                "variant": variant,
                **{name: getattr(variant_data, name) for name in SPLIT_NAMES},
                "dropped_unknown": variant_data.dropped_unknown,
            },
        )
        variant_data.vocab.save(out_dir / variant / VOCAB_FILE)
        summaries[variant] = {
            "vocab_size": len(variant_data.vocab),
            "token_range": [variant_data.vocab.tokens[0], variant_data.vocab.tokens[-1]],
            "sequences": {name: len(getattr(variant_data, name)) for name in SPLIT_NAMES},
            "train_tokens": sum(len(sequence) for sequence in variant_data.train),
            "dropped_unknown": variant_data.dropped_unknown,
        }
    return summaries


def load_prepared(prepared_dir: str | os.PathLike, variant: str) -> VariantData:
    """The :class:`~musiclib.data.sequences.VariantData` of ``variant`` written by :func:`~musiclib.data.corpus.prepare`.

    Parameters
    ----------
    prepared_dir : str or path
        The folder given to ``prepare`` (``python -m musiclib prepare --out``).
    variant : {"control", "interval", "db12"}
        Which variant to read.

    Returns
    -------
    VariantData

    Raises
    ------
    FileNotFoundError
        Naming the folder if it holds no finished preparation (no ``report.json``).
    DataError
        If a file is malformed, or for an unknown variant.
    """
    check_variant(variant)
    prepared_dir = Path(prepared_dir)
    if not (prepared_dir / REPORT_FILE).is_file():
        raise FileNotFoundError(
            f"{str(prepared_dir)!r} holds no finished preparation (no {REPORT_FILE}); "
            f"run: python -m musiclib prepare --out {prepared_dir}"
        )
    sequences_path = prepared_dir / variant / SEQUENCES_FILE
    try:
        stored = json.loads(sequences_path.read_text())
        splits = {name: [list(sequence) for sequence in stored[name]] for name in SPLIT_NAMES}
        dropped_unknown = dict(stored["dropped_unknown"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DataError(f"prepared file {str(sequences_path)!r} cannot be read: {error}") from None
    vocab = Vocabulary.load(prepared_dir / variant / VOCAB_FILE)
    return VariantData(variant, vocab, splits["train"], splits["validation"], splits["test"], dropped_unknown)
