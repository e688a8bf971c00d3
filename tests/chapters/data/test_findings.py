from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from musiclib import published
from musiclib.chapters.data.findings import data_findings


def findings(cmm: float, lm: float, centr: float) -> str:
    melodies = [np.arange(10), np.arange(5)]
    data = SimpleNamespace(splits=SimpleNamespace(train=melodies), variants={})
    table_i = pd.DataFrame({"diff_mean": [cmm, lm, centr]}, index=["CMM", "LM", "CENTR"])
    return data_findings(data, table_i, "study")


def test_data_findings_counts_the_training_melodies_and_names_the_papers_files():
    text = findings(-0.2, -0.4, 0.01)
    assert text.startswith("- The corpus gives 2 training melodies (15 notes) with the **study** profile")
    assert f"{published.value('train_midi_files'):,} MIDI files" in text


def test_data_findings_reads_each_difference_in_its_direction():
    text = findings(-0.19, 0.37, 0.02)
    assert "move by smaller steps (CMM -0.19 semitones)" in text
    assert "keep further from 5 to 8 different pitches" in text
    assert "dwell more on repeated notes (CENTR +0.02)" in text


def test_data_findings_gives_no_direction_to_a_difference_that_prints_as_zero():
    text = findings(0.001, -0.003, -0.004)
    assert "move by steps of about the same size (CMM +0.00 semitones)" in text
    assert "keep as close to 5 to 8" in text
    assert "dwell about as much on repeated notes (CENTR -0.00)" in text
