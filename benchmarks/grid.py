"""Grid benchmarks (issue 11): a grid sequentially vs on a local Dask cluster, and the wall time a
profile's grid is predicted to take on 1, 4, 16 and 45 workers.

    python benchmarks/grid.py compare [--profile smoke]     # sequential vs --cluster local --workers 2
    python benchmarks/grid.py predict [--profile paper]     # per-run costs -> predicted wall times

compare: ``python -m musiclib grid`` on the profile twice into fresh run folders, once with
``--workers 1`` (one run after another in one process) and once with ``--cluster local --workers 2``;
prints both wall times (command start to exit: interpreter, data and cluster start-up included),
their ratio, each run's training seconds and the machine's load average (the machine may be shared).

predict: the seconds per training step of every (cell, layers) of the profile at its model size
(rnn_size, batch_size, seq_length) are measured with ``train.train`` on the 600-song Essen slice (the
mean of the 2nd and 3rd epochs, so tracing is excluded; validation and resume points included);
steps per epoch of each variant are scaled from that slice to the profile's number of songs
(Essen: 8,504 songs of 12 notes or more when the profile takes all). A run costs steps per epoch x
epochs x seconds per step; ``musiclib.experiments.scaling.predict_wall_time`` turns the runs' costs into the
wall time on N workers, each as fast as this machine. A prediction, not a measurement.

On a machine without music21 (a GPU box, say), write the slice here with
``python benchmarks/grid.py save-slice essen600.pkl`` and predict there with
``--slice essen600.pkl``; ``KERAS_BACKEND`` picks the backend as usual.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
ESSEN_SONGS = 8504  # Essen songs of >= 12 notes (README)
SLICE_SONGS = 600  # the quick profile's slice (parsed and cached by make reproduce)
WORKER_COUNTS = (1, 4, 16, 45)


def _environment() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def _timed_grid(profile: str, runs_dir: str, *options: str) -> float:
    """Wall seconds of ``python -m musiclib grid`` (it must succeed)."""
    command = [sys.executable, "-m", "musiclib", "grid", "--profile", profile, "--runs_dir", runs_dir, *options]
    started = time.perf_counter()
    finished = subprocess.run(command, env=_environment(), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{finished.stdout[-2000:]}{finished.stderr[-2000:]}")
    return seconds


def _run_seconds(runs_dir: str, profile_name: str) -> dict[str, float]:
    """Training seconds of each finished run (sum of its epochs' seconds), by variant/cell-layers."""
    return {
        f"{path.parent.parent.name}/{path.parent.name}": sum(epoch["seconds"] for epoch in json.loads(path.read_text())["epochs"])
        for path in sorted(Path(runs_dir, profile_name).glob("*/*/history.json"))
    }


def compare(profile: str) -> dict:
    """Sequential vs a local cluster of 2 workers on the same grid; prints and returns the figures."""
    from musiclib.experiments.profiles import load_profile

    name = load_profile(profile).name
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as sequential_dir, tempfile.TemporaryDirectory() as cluster_dir:
        sequential = _timed_grid(profile, sequential_dir, "--workers", "1")
        local = _timed_grid(profile, cluster_dir, "--cluster", "local", "--workers", "2")
        runs = _run_seconds(sequential_dir, name)
        runs_on_cluster = _run_seconds(cluster_dir, name)
    load_after = os.getloadavg()
    figures = {
        "profile": name, "cpus": os.cpu_count(), "sequential_seconds": sequential, "local_2_workers_seconds": local,
        "speed_up": sequential / local, "run_seconds_sequential": runs, "run_seconds_local_2_workers": runs_on_cluster,
        "load_average_before": load_before, "load_average_after": load_after,
    }  # fmt: skip
    print(f"profile {name}: {len(runs)} runs on {os.cpu_count()} CPUs")
    print(f"sequential (--workers 1):            {sequential:7.1f} s wall")
    print(f"local cluster (--cluster local -w 2): {local:7.1f} s wall")
    print(f"ratio sequential / local cluster:     {sequential / local:7.2f}")
    print(f"training seconds per run, sequential: {', '.join(f'{k} {v:.1f}' for k, v in runs.items())}")
    print(f"training seconds per run, 2 workers:  {', '.join(f'{k} {v:.1f}' for k, v in runs_on_cluster.items())}")
    print(f"load average (1 min) before / after: {load_before[0]:.1f} / {load_after[0]:.1f} (other work on this machine)")
    return figures


def step_seconds(profile, cell: str, layers: int, variant_data) -> float:
    """Seconds per training step of one (cell, layers) at the profile's model size (epochs 2-3)."""
    from dataclasses import replace

    from musiclib.experiments.grid import GridPoint, train_config
    from musiclib.models.train import train

    config = replace(train_config(profile, GridPoint("control", cell, layers)), num_epochs=3, save_every=10**6)
    with tempfile.TemporaryDirectory() as directory:
        run = train(config, variant_data, directory, progress=False)
    epochs = run.history["epochs"]
    steps_per_epoch = len(run.history["steps"]) / len(epochs)
    return sum(epoch["seconds"] for epoch in epochs[1:]) / (len(epochs) - 1) / steps_per_epoch


def essen_slice() -> list:
    """The first ``SLICE_SONGS`` Essen melodies (parsed with music21, or read from its cache)."""
    from musiclib.data.corpus import load_corpus

    return load_corpus("essen", max_songs=SLICE_SONGS, progress=False).melodies


def save_slice(path: str) -> None:
    """Pickle the Essen slice for ``predict --slice`` on a machine without music21."""
    melodies = essen_slice()
    Path(path).write_bytes(pickle.dumps(melodies))
    print(f"{len(melodies)} melodies -> {path}")


def predict(profile_name: str, slice_file: str | None = None) -> dict:
    """Measured per-step costs -> per-run seconds -> predicted wall time on 1, 4, 16, 45 workers."""
    import keras

    from musiclib.data import sequences
    from musiclib.experiments.grid import grid_points
    from musiclib.experiments.profiles import load_profile
    from musiclib.experiments.scaling import predict_wall_time
    from musiclib.models.train import paper_batches

    profile = load_profile(profile_name)
    melodies = pickle.loads(Path(slice_file).read_bytes()) if slice_file else essen_slice()
    print(f"Keras backend {keras.backend.backend()}; {len(melodies)} Essen melodies", flush=True)
    splits = sequences.split_melodies(melodies)
    songs = profile.data.max_songs or ESSEN_SONGS
    settings = profile.train
    steps_per_epoch = {}
    for variant in profile.grid.variants:
        prepared = sequences.prepare_variant(splits, variant)
        batches = paper_batches(prepared.train, prepared.vocab, settings.batch_size, settings.seq_length)
        steps_per_epoch[variant] = batches.num_tokens * songs / len(melodies) / (settings.batch_size * settings.seq_length)
    control = sequences.prepare_variant(splits, "control")
    costs = {}
    for cell in profile.grid.cells:
        for layers in profile.grid.layers:
            costs[(cell, layers)] = step_seconds(profile, cell, layers, control)
            print(f"{cell}-{layers}: {costs[(cell, layers)] * 1000:.1f} ms per step", flush=True)
    runs = {
        f"{p.variant}/{p.cell}-{p.num_layers}": steps_per_epoch[p.variant] * settings.num_epochs[p.variant] * costs[(p.cell, p.num_layers)]
        for p in grid_points(profile)
    }
    predictions = [predict_wall_time(list(runs.values()), workers) for workers in WORKER_COUNTS]
    print(f"\nprofile {profile.name}: {len(runs)} runs; steps per epoch {', '.join(f'{v} {n:.0f}' for v, n in steps_per_epoch.items())}")
    print(f"run hours: shortest {min(runs.values()) / 3600:.2f}, longest {max(runs.values()) / 3600:.2f}, total {sum(runs.values()) / 3600:.1f}")
    print("| workers | predicted wall time (h) | lower bound (h) |")
    print("|---:|---:|---:|")
    for prediction in predictions:
        print(f"| {prediction.workers} | {prediction.seconds / 3600:.1f} | {prediction.lower_bound_seconds / 3600:.1f} |")
    return {
        "profile": profile.name, "steps_per_epoch": steps_per_epoch,
        "seconds_per_step": {f"{cell}-{layers}": value for (cell, layers), value in costs.items()},
        "run_seconds": runs, "predictions": [vars(prediction) for prediction in predictions],
        "load_average": os.getloadavg(),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("compare", "predict", "save-slice"), nargs="?", default="compare")
    parser.add_argument("path", nargs="?", help="save-slice: the file to write")
    parser.add_argument("--profile", help="profile name or .toml (default: smoke for compare, paper for predict)")
    parser.add_argument("--slice", help="predict: the Essen slice from a save-slice file instead of music21")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    if args.what == "save-slice":
        if not args.path:
            parser.error("save-slice needs the file to write")
        save_slice(args.path)
        return
    if args.what == "compare":
        figures = compare(args.profile or "smoke")
    else:
        figures = predict(args.profile or "paper", args.slice)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
