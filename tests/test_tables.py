"""musiclib.tables: book-styled tables and the published-baseline text."""

from __future__ import annotations

import pandas as pd

from musiclib import tables
from musiclib.metrics import METRICS


def _table(rows):
    return pd.DataFrame(rows, columns=list(METRICS))


def test_show_table_formats_numbers_and_hides_the_index():
    frame = pd.DataFrame({"metric": ["CMM"], "mean": [2.4167], "songs": [1200]})
    page = tables.show_table(frame, caption="Published: paper").to_html()
    assert 'class="dataframe"' in page and "<caption>Published: paper</caption>" in page
    assert ">2.42<" in page and ">1,200<" in page
    assert "row_heading" not in page  # no index column


def test_pitch_class_baseline_has_no_published_counterpart():
    text = tables.baseline_text(_table([[2.0, 1.0, 0.2], [3.0, 2.0, 0.4]]), pitch_class=True)
    assert "on pitch classes" in text and "no published table" in text


def test_each_option_names_the_published_table_computed_that_way():
    assert tables.published_baseline_name() == "table_i"
    assert tables.published_baseline_name(rhythm=True) == "paper4_dataset_baseline"
    assert tables.published_baseline_name(pitch_class=True) is None
