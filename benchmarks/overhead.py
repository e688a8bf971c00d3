"""The per-epoch overhead of finished training runs: the share of each run's time that went to other
work than its training steps (issue 21 asks for under 10 % of an epoch).

    python benchmarks/overhead.py RUNS_DIR [--first]

For every ``history.json`` under ``RUNS_DIR`` (a runs folder, or one profile's folder in it), the
overhead parts that the training loop timed in the same run, as shares of the epochs' wall time
(:func:`musiclib.models.training_loop.epoch_overhead`): the validation checks, the per-step
callback (per-step history, TensorBoard scalars) and the saves (checkpoints and resume points).
The first epoch is left out (it pays for tracing) unless ``--first`` is given; runs whose epochs
were recorded before the parts were timed (all parts zero) are listed but left out of the
summary. The summary gives, per variant, the median and the largest total share.

The figure depends on the epoch's length: each validation check and save has a fixed cost, so
short epochs (``benchmarks/cpu.py`` trains on 1,000 songs, about 1.5 s an epoch) show a larger
share than the ``study`` profile's runs on all of Essen.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs_dir", type=Path)
    parser.add_argument("--first", action="store_true", help="count the first epoch too (it pays for tracing)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPOSITORY))
    from musiclib.models.runfiles import HISTORY_FILE
    from musiclib.models.training_loop import epoch_overhead

    histories = sorted(args.runs_dir.rglob(HISTORY_FILE))
    if not histories:
        raise SystemExit(f"{args.runs_dir}: no {HISTORY_FILE} under it (not a runs folder?)")
    print("| run | epochs | seconds per epoch | validation | per-step callback | saves | total |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    totals: dict[str, list[float]] = {}
    for history_file in histories:
        epochs = json.loads(history_file.read_text())["epochs"][(0 if args.first else 1):]
        if not epochs:
            continue
        shares = epoch_overhead(epochs)
        run = history_file.parent.relative_to(args.runs_dir)
        timed = shares["total"] > 0
        if timed:
            totals.setdefault(run.parts[-2] if len(run.parts) > 1 else ".", []).append(shares["total"])
        seconds = statistics.fmean(epoch["seconds"] + epoch.get("save_seconds", 0.0) for epoch in epochs)
        parts = " | ".join(f"{shares[part]:.1%}" for part in ("validation", "step_callback", "save", "total"))
        print(f"| {run} | {len(epochs)} | {seconds:.1f} | {parts if timed else 'not timed | | |'} |")
    print("\n| folder | runs timed | median total | largest total |")
    print("|---|---:|---:|---:|")
    for folder, shares in sorted(totals.items()):
        print(f"| {folder} | {len(shares)} | {statistics.median(shares):.1%} | {max(shares):.1%} |")


if __name__ == "__main__":
    main()
