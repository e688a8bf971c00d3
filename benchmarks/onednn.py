"""TensorFlow's oneDNN kernels on and off, as the grid trains: two runs at once on this machine's
cores, each with its share of the threads (``musiclib.experiments.cluster.worker_thread_environment``).

    python benchmarks/onednn.py [--cells lstm nas ugrnn] [--layers 2] [--songs 2000] [--rounds 2]

``TF_ENABLE_ONEDNN_OPTS=0`` (TensorFlow's plain Eigen kernels) is the baseline; ``=1`` (oneDNN, the
default of TensorFlow on x86 Linux) is measured against it, and for NAS also oneDNN without XLA
compilation (the training setting ``xla = "off"``; by default, ``"auto"``, NAS is compiled). Each figure is the mean seconds of the 2nd and
3rd epochs of two ``study``-recipe runs trained at the same time on Essen's control variant (its first
``--songs`` melodies), the best of ``--rounds`` interleaved rounds; the ratio is baseline / variant
(above 1 = faster than the baseline). Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os

from threads import two_at_once

ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"


def variants(cell: str) -> dict[str, tuple[dict[str, str], str]]:
    """The (environment, XLA policy) pairs compared for one cell: baseline first."""
    settings = {"oneDNN off": ({ONEDNN_VARIABLE: "0"}, "auto"), "oneDNN on": ({ONEDNN_VARIABLE: "1"}, "auto")}
    if cell == "nas":
        settings["oneDNN on, no XLA"] = ({ONEDNN_VARIABLE: "1"}, "off")
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", nargs="+", default=["lstm", "nas", "ugrnn"])
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--songs", type=int, default=2000, help="Essen melodies (control)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the best of each is kept")
    args = parser.parse_args()
    from musiclib.experiments.cluster import worker_thread_environment

    if ONEDNN_VARIABLE in os.environ:
        raise SystemExit(f"unset {ONEDNN_VARIABLE} first: this benchmark sets it")
    pools = worker_thread_environment(2)
    print(f"two runs at once on {os.cpu_count()} cores (pools {pools}), {args.songs} Essen melodies (control)")
    for cell in args.cells:
        settings = variants(cell)
        seconds: dict[str, list[float]] = {name: [] for name in settings}
        for _ in range(args.rounds):  # interleaved, so that a drift in the machine's speed hits all
            for name, (environment, xla) in settings.items():
                seconds[name].append(two_at_once(cell, args.layers, args.songs, {**pools, **environment}, xla))
        best = {name: min(values) for name, values in seconds.items()}
        baseline = next(iter(best.values()))
        for name, value in best.items():
            print(f"{cell}-{args.layers} {name}: {value:.2f} s per epoch (best of {args.rounds}), "
                  f"ratio {baseline / value:.2f}", flush=True)


if __name__ == "__main__":
    main()
