"""End-to-end training runs of a profile on this machine (early stopping included), against the
same runs trained elsewhere.

    python benchmarks/runs.py --profile study control/lstm-2 db12/lstm-2 [--compare RUNS_DIR]
    python benchmarks/runs.py save-melodies essen.pkl      # for a machine without music21

Each named grid point (``variant/cell-layers``) is trained from scratch with the profile's recipe
(``musiclib.experiments.grid.train_config``) on the profile's data, into a temporary folder; the wall time of
``train.train`` (tracing, validation, checkpoints and the final model files included), the epochs it
ran, its best epoch and best validation loss are printed. With ``--compare`` pointing at a runs
folder where the same runs finished (for example the study profile's runs on 2 CPU cores), their
training seconds (the sum of the epochs' seconds in ``history.json``) are read and the ratio printed.
On a machine without music21 (a GPU box), write the melodies here with ``save-melodies`` and pass
``--melodies``; ``KERAS_BACKEND`` picks the Keras backend.
"""

from __future__ import annotations

import argparse
import json
import pickle
import tempfile
import time
from dataclasses import replace
from pathlib import Path


def load_melodies(profile, melodies_file: str | None) -> list:
    """The profile's melodies: from a ``save-melodies`` file, or parsed with music21."""
    if melodies_file:
        return pickle.loads(Path(melodies_file).read_bytes())
    from musiclib.data.corpus import load_corpus

    data = profile.data
    return load_corpus(data.source, max_songs=data.max_songs, min_notes=data.min_notes, progress=False).melodies


def parse_point(text: str):
    """``"control/lstm-2"`` -> ``GridPoint("control", "lstm", 2)``."""
    from musiclib.experiments.grid import GridPoint

    try:
        variant, run = text.split("/")
        cell, layers = run.rsplit("-", 1)
        return GridPoint(variant, cell, int(layers))
    except ValueError:
        raise SystemExit(f"grid point {text!r}: expected variant/cell-layers, for example control/lstm-2") from None


def compared_seconds(runs_dir: str, profile, point) -> float | None:
    """Training seconds of the same finished run in another runs folder, if it is there."""
    from musiclib.experiments.grid import run_dir
    from musiclib.models.runfiles import HISTORY_FILE

    history = run_dir(runs_dir, profile, point) / HISTORY_FILE
    if not history.is_file():
        return None
    return sum(epoch["seconds"] for epoch in json.loads(history.read_text())["epochs"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("points", nargs="+", help="grid points (variant/cell-layers), or: save-melodies FILE")
    parser.add_argument("--profile", default="study")
    parser.add_argument("--melodies", help="a save-melodies file instead of parsing with music21")
    parser.add_argument("--save_every", type=int, help="steps between checkpoints instead of the profile's")
    parser.add_argument("--compare", help="a runs folder where the same runs finished (their seconds are the baseline)")
    args = parser.parse_args()

    import keras

    from musiclib.data import sequences
    from musiclib.experiments.grid import train_config
    from musiclib.experiments.profiles import load_profile
    from musiclib.models.train import COMPLETE_FILE, train

    profile = load_profile(args.profile)
    if args.points[0] == "save-melodies":
        melodies = load_melodies(profile, None)
        Path(args.points[1]).write_bytes(pickle.dumps(melodies))
        print(f"{len(melodies)} melodies -> {args.points[1]}")
        return
    points = [parse_point(text) for text in args.points]
    splits = sequences.split_melodies(load_melodies(profile, args.melodies))
    print(f"profile {profile.name}, Keras backend {keras.backend.backend()}, {len(splits.train)} training melodies")
    print("| run | wall time (s) | epochs | best epoch | best val loss | baseline (s) | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for point in points:
        variant_data = sequences.prepare_variant(splits, point.variant)
        with tempfile.TemporaryDirectory() as directory:
            started = time.perf_counter()
            config = train_config(profile, point)
            if args.save_every:
                config = replace(config, save_every=args.save_every)
            train(config, variant_data, directory, progress=False)
            seconds = time.perf_counter() - started
            complete = json.loads(Path(directory, COMPLETE_FILE).read_text())
        baseline = compared_seconds(args.compare, profile, point) if args.compare else None
        ratio = f"{baseline / seconds:.1f}x" if baseline else ""
        print(f"| {point.variant}/{point.cell}-{point.num_layers} | {seconds:.0f} | {complete['stopped_epoch']} "
              f"| {complete['best_epoch']} | {complete['best_val_loss']:.3f} | {f'{baseline:.0f}' if baseline else ''} "
              f"| {ratio} |", flush=True)


if __name__ == "__main__":
    main()
