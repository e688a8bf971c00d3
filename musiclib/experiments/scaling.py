"""How long a set of training runs takes on a number of workers: the scaling model of the book's
cost table (``benchmarks/grid.py`` measures the runs; :mod:`musiclib.experiments.cluster` runs them).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Sequence

from musiclib.common.checks import positive_int


@dataclass(frozen=True)
class WallTimePrediction:
    """Predicted wall time of a set of runs on a number of workers.

    Attributes
    ----------
    workers : int
        Number of workers.
    seconds : float
        The longest-processing-time-first schedule's makespan.
    lower_bound_seconds : float
        No schedule can beat max(longest run, total / workers).
    total_seconds : float
        The wall time on one worker.
    """

    workers: int
    seconds: float
    lower_bound_seconds: float
    total_seconds: float


def predict_wall_time(run_seconds: Sequence[float], workers: int) -> WallTimePrediction:
    """Wall time of independent runs on ``workers`` identical workers, one run at a time each.

    Runs are handed out longest first, each to the worker that becomes free first (Graham's LPT
    rule, which is how a queue of tasks behaves when the longest are submitted first).

    Parameters
    ----------
    run_seconds : sequence of float
        Wall seconds of each run on one worker (measured, or scaled from measurements).
    workers : int
        Number of workers (>= 1).

    Returns
    -------
    WallTimePrediction

    Raises
    ------
    ValueError
        ``workers`` < 1, no runs, or a negative run time.

    Notes
    -----
    With run times :math:`t_i` and :math:`N` workers, every schedule takes at least

    .. math:: L = \\max\\Big(\\max_i t_i, \\frac{1}{N}\\sum_i t_i\\Big),

    and the LPT schedule takes at most :math:`(4/3 - 1/(3N))` times the optimum. Beyond
    :math:`N` = number of runs, more workers change nothing: the longest run bounds the wall time.

    References
    ----------
    :cite:`graham1969bounds`
    """
    positive_int(workers, "workers")
    times = sorted((float(seconds) for seconds in run_seconds), reverse=True)
    if not times:
        raise ValueError("run_seconds is empty: no runs to schedule")
    if times[-1] < 0:
        raise ValueError(f"run_seconds must be >= 0, got {times[-1]}")
    loads = [0.0] * min(workers, len(times))
    for seconds in times:
        heapq.heapreplace(loads, loads[0] + seconds)
    total = sum(times)
    return WallTimePrediction(workers, max(loads), max(times[0], total / workers), total)
