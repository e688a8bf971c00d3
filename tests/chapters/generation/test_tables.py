from __future__ import annotations

import pytest

from musiclib.chapters.generation.tables import cell_contrast_table, seed_interval_table


def test_seed_and_contrast_tables_keep_every_row_and_write_intervals(per_song_table, study_of):
    study = study_of(per_song_table([0.0, 0.1, 0.2], cell_offset=1.0))
    assert seed_interval_table(study.intervals)["seeds"].tolist() == [3, 3]
    contrast = cell_contrast_table(study.contrasts).iloc[0]
    assert contrast["cells"] == "lstm - nas" and contrast["difference"] == pytest.approx(-1.0)
    assert contrast["between seeds (sd)"] == "0.10 / 0.10"
