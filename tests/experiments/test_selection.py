from __future__ import annotations

import pytest

from musiclib.experiments.selection import step_curves


def test_step_curves_put_a_run_that_stopped_mid_epoch_on_the_right_epoch_axis():
    """12 steps per epoch; the run stopped 6 steps into its 3rd epoch (30 steps, 2.5 epochs)."""
    from types import SimpleNamespace

    from musiclib.experiments.grid import GridPoint, GridResult

    history = {
        "steps": [{"step": step, "loss": 3.0 - step / 100} for step in range(1, 31)],
        "epochs": [{"epoch": 1}, {"epoch": 2}, {"epoch": 3, "fraction": 0.5}],
    }
    result = GridResult(runs={GridPoint("db12", "lstm", 2): SimpleNamespace(history=history)})
    curves = step_curves(result, smoothing_steps=1)
    assert curves.loc[curves["step"] == 12, "epoch"].item() == pytest.approx(1.0)
    assert curves["epoch"].max() == pytest.approx(2.5)
    assert curves["loss"].tolist() == pytest.approx([3.0 - step / 100 for step in range(1, 31)])
