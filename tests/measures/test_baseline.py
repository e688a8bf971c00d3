from __future__ import annotations

import pandas as pd
import pytest

from musiclib.measures.baseline import (
    baseline_text,
    dataset_baseline,
    published_baseline_name,
)
from musiclib.measures.metrics import METRICS


def test_dataset_baseline_needs_intervals():
    with pytest.raises(ValueError, match=r"min_notes \(the metrics need an interval\) must be an integer >= 2"):
        dataset_baseline("essen", min_notes=1)


def test_essen_baseline_scores_every_kept_melody():
    table, report = dataset_baseline("essen", max_songs=40)
    assert len(table) == report.kept == 40
    assert table["CMM"].between(0, 127).all()
    assert (table["LM"] >= 1).all()
    assert table["CENTR"].between(0, 1).all()
    # Essen folk songs are stepwise: mean CMM within a few semitones, like the paper's 2.42
    assert 1.0 < table["CMM"].mean() < 4.0


def _table(rows):
    return pd.DataFrame(rows, columns=list(METRICS))


def test_pitch_class_baseline_has_no_published_counterpart():
    text = baseline_text(_table([[2.0, 1.0, 0.2], [3.0, 2.0, 0.4]]), pitch_class=True)
    assert "on pitch classes" in text and "no published table" in text


def test_each_option_names_the_published_table_computed_that_way():
    assert published_baseline_name() == "table_i"
    assert published_baseline_name(rhythm=True) == "paper4_dataset_baseline"
    assert published_baseline_name(pitch_class=True) is None
