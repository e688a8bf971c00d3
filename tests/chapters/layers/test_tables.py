from __future__ import annotations

from musiclib.chapters.layers.tables import held_out_display, selection_rules_table


def test_display_tables_keep_every_row_and_write_intervals(rules_table, held_out_frame):
    rules = selection_rules_table(rules_table)
    assert rules["rules agree"].tolist() == ["no", "yes", "no"]
    held_out = held_out_display(held_out_frame())
    assert held_out["95% CI of the difference"].tolist()[0] == "[-0.300, -0.100]"
    assert held_out["beats KN"].tolist() == ["yes", "no", "no"]
