from __future__ import annotations

import pandas as pd

from musiclib.outputs.tables import show_table


def test_show_table_formats_numbers_and_hides_the_index():
    frame = pd.DataFrame({"metric": ["CMM"], "mean": [2.4167], "songs": [1200]})
    page = show_table(frame, caption="Published: paper").to_html()
    assert 'class="dataframe"' in page and "<caption>Published: paper</caption>" in page
    assert ">2.42<" in page and ">1,200<" in page
    assert "row_heading" not in page  # no index column
