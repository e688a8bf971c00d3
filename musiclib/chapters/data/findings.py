"""Chapter 1's "What we found": the corpus and its baseline, in sentences computed from the tables.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from musiclib import published
from musiclib.outputs.prose import bullets, direction


def data_findings(data: Any, table_i: pd.DataFrame, profile_name: str) -> str:
    """Chapter 1: corpus size, vocabulary and the dataset baseline against TABLE I.

    Parameters
    ----------
    data : musiclib.experiments.grid.ExperimentData
        The profile's melodies and prepared variants.
    table_i : pandas.DataFrame
        :func:`musiclib.published.compare` of our dataset summary with ``"table_i"``, indexed by
        metric, with a ``diff_mean`` column (ours minus the paper's).
    profile_name : str

    Returns
    -------
    str
        Markdown bullets.
    """
    train = data.splits.train
    notes = sum(len(melody) for melody in train)
    lines = [
        f"The corpus gives {len(train)} training melodies ({notes:,} notes) with the **{profile_name}** profile; "
        f"the paper trained on {published.value('train_midi_files'):,} MIDI files."
    ]
    if "control" in data.variants:
        lines.append(
            f"The control vocabulary holds {len(data.variants['control'].vocab)} pitches against the paper's "
            f"{published.value('control_vocabulary_size')}: folk melodies stay in a narrower range than MuseScore uploads."
        )
    difference = table_i["diff_mean"]
    steps = direction(difference["CMM"], "by smaller steps", "by larger steps", "by steps of about the same size")
    window = direction(difference["LM"], "closer to", "further from", "as close to")
    repeats = direction(difference["CENTR"], "less", "more", "about as much")
    lines.append(
        f"Against the paper's TABLE I, our training melodies move {steps} (CMM {difference['CMM']:+.2f} semitones), "
        f"keep {window} 5 to 8 different pitches per 12-note window (LM {difference['LM']:+.2f}; 1 is ideal) and "
        f"dwell {repeats} on repeated notes (CENTR {difference['CENTR']:+.2f}). "
        "These values are the reference for the generated melodies of the next chapters."
    )
    return bullets(lines)


def melody_description(melody: Any) -> str:
    """One sentence on a melody: its length, range, intervals and DB12 transpositions.

    Parameters
    ----------
    melody : musiclib.data.sequences.Melody

    Returns
    -------
    str
    """
    from musiclib.data.sequences import (
        db12_shifts,
        note_name,
        to_intervals,
        token_label,
    )

    steps = " ".join(token_label(step, "interval") for step in to_intervals(melody.pitches))
    shifts = ", ".join(f"{shift:+d}" for shift in db12_shifts(melody.pitches))
    return (
        f"{len(melody)} notes, from {note_name(min(melody.pitches))} to {note_name(max(melody.pitches))}. "
        f"Its intervals (semitones): {steps}. DB12 transposes it by {shifts} semitones."
    )
