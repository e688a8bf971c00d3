"""Two training runs sharing this machine's cores: TensorFlow's default thread pools against the
pools a local Dask worker gets (``musiclib.experiments.cluster.worker_thread_environment``).

    python benchmarks/threads.py [--cell lstm] [--layers 2] [--songs 8504]

Each variant starts two processes at once; each trains the ``study`` profile's recipe for
``--cell`` / ``--layers`` on Essen's control variant (its first ``--songs`` melodies) for 3 epochs
with early stopping off, and reports its epochs' seconds (validation included). The figure is the
mean of the 2nd and 3rd epochs over both processes (the 1st pays for tracing); the ratio is
default / shared, each the best of ``--rounds`` interleaved rounds. Run it on an otherwise idle machine: other work changes both figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
WORKER = """
import json, sys, tempfile
from dataclasses import replace
from musiclib.data import corpus, sequences
from musiclib.experiments.grid import GridPoint, train_config
from musiclib.experiments.profiles import load_profile
from musiclib.models.train import train
cell, layers, songs, xla = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
melodies = corpus.load_corpus("essen", max_songs=songs, progress=False).melodies
variant_data = sequences.prepare_variant(sequences.split_melodies(melodies), "control")
point = GridPoint("control", cell, layers)
config = replace(train_config(load_profile("study"), point), num_epochs=3, patience=0, xla=xla)
with tempfile.TemporaryDirectory() as directory:
    run = train(config, variant_data, directory, progress=False)
print(json.dumps([epoch["seconds"] for epoch in run.history["epochs"]]))
"""


def two_at_once(cell: str, layers: int, songs: int, environment: dict[str, str], xla: str = "auto") -> float:
    """Mean seconds of the 2nd and 3rd epochs of two runs trained at the same time.

    ``environment`` is added to the workers' environment variables; ``xla`` is their runs' XLA
    policy (``musiclib.models.settings.TrainConfig.xla``: auto, on or off).
    """
    path = os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, **environment, "PYTHONPATH": path}
    command = [sys.executable, "-c", WORKER, cell, str(layers), str(songs), xla]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
    seconds = []
    for process in processes:
        out, _ = process.communicate()
        if process.returncode != 0:
            raise SystemExit(f"a training process failed (exit status {process.returncode})")
        seconds += json.loads(out.strip().splitlines()[-1])[1:]
    return sum(seconds) / len(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cell", default="lstm")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--songs", type=int, default=8504, help="Essen melodies (default: all)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the best of each is kept")
    args = parser.parse_args()
    from musiclib.experiments.cluster import TENSORFLOW_THREAD_VARIABLES, worker_thread_environment

    if any(name in os.environ for name in TENSORFLOW_THREAD_VARIABLES):
        raise SystemExit(f"unset {', '.join(TENSORFLOW_THREAD_VARIABLES)} first: the baseline is TensorFlow's default")
    shared = worker_thread_environment(2)
    print(f"two {args.cell}-{args.layers} runs at once on {os.cpu_count()} cores, {args.songs} Essen melodies (control)")
    default_runs, shared_runs = [], []
    for _ in range(args.rounds):  # interleaved, so that a drift in the machine's speed hits both
        default_runs.append(two_at_once(args.cell, args.layers, args.songs, {}))
        shared_runs.append(two_at_once(args.cell, args.layers, args.songs, shared))
        print(f"  default {default_runs[-1]:.2f} s, worker pools {shared_runs[-1]:.2f} s per epoch", flush=True)
    default_seconds, shared_seconds = min(default_runs), min(shared_runs)
    print(f"TensorFlow's default pools: {default_seconds:.2f} s per epoch (best of {args.rounds})")
    print(f"worker pools {shared}: {shared_seconds:.2f} s per epoch (best of {args.rounds})")
    print(f"ratio (default / worker pools): {default_seconds / shared_seconds:.2f}")


if __name__ == "__main__":
    main()
