"""Generation benchmark (issue 4): 100 songs x 30 notes in one batched pass vs one song at a time.

    .venv/bin/python benchmarks/generation.py [--cells lstm nas ugrnn] [--songs 600] [--num_epochs 4]
                                              [--runs_dir DIR] [--rounds 3]

For each cell, a 2-layer x 128 model is trained briefly on the Essen control variant (the first
``--songs`` cleaned melodies, hash split; runs are kept in ``--runs_dir`` and reused when given) so
that its sample melody means something; then, on that same model, from the paper's seed:

- batched: ``generate(run, seed, n_notes=30, n_songs=100)``, one batched step call per note;
- one at a time: 100 x ``generate(run, seed, n_notes=30, n_songs=1)``, as the paper's sample.py.

Both paths are called once before timing (tracing of the step function is not measured), and each is
timed as the best of ``--rounds`` interleaved rounds (the machine may be shared). It prints the
seconds of each, their ratio (target: at least 20x) and one sample melody per cell. Exit status 1
if a ratio misses the target.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

TARGET_RATIO = 20
N_SONGS = 100
N_NOTES = 30


def train_briefly(cell: str, splits, runs_dir: Path, num_epochs: int):
    """A 2 x 128 control run of ``cell`` (the paper's recipe, ``num_epochs`` epochs), reused if finished."""
    from musiclib.data import sequences
    from musiclib.models.train import TrainConfig, train

    config = TrainConfig(variant="control", model=cell, num_layers=2, rnn_size=128, num_epochs=num_epochs)
    return train(config, sequences.prepare_variant(splits, "control"), runs_dir / f"control-{cell}-2", progress=False)


def best_seconds(action, rounds: int) -> float:
    """The fastest of ``rounds`` timings of ``action()`` (seconds)."""
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", nargs="+", default=["lstm", "nas", "ugrnn"], help="cells to measure")
    parser.add_argument("--songs", type=int, default=600, help="Essen melodies to train on (default 600)")
    parser.add_argument("--num_epochs", type=int, default=4, help="training epochs per model (default 4)")
    parser.add_argument("--runs_dir", type=Path, help="keep (and reuse) the runs here (default: a temporary folder)")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds, best one kept (default 3)")
    args = parser.parse_args(argv)

    from musiclib.data import corpus, sequences
    from musiclib.models.generate import PAPER_SEEDS, generate

    loaded = corpus.load_corpus("essen", max_songs=args.songs, progress=False)
    splits = sequences.split_melodies(loaded.melodies)
    seed = PAPER_SEEDS["control"]
    print(f"{len(splits.train)} training / {len(splits.validation)} validation Essen melodies; seed {seed!r}; "
          f"{N_SONGS} songs x {N_NOTES} notes; best of {args.rounds} rounds\n")
    with tempfile.TemporaryDirectory() as scratch:
        runs_dir = args.runs_dir or Path(scratch)
        rows = []
        for cell in args.cells:
            run = train_briefly(cell, splits, runs_dir, args.num_epochs)

            def batched(run=run):
                return generate(run, seed, n_notes=N_NOTES, n_songs=N_SONGS, rng=0)

            def one_at_a_time(run=run):
                return [generate(run, seed, n_notes=N_NOTES, n_songs=1, rng=song)[0] for song in range(N_SONGS)]

            songs = batched()
            one_at_a_time()
            batched_seconds = best_seconds(batched, args.rounds)
            loop_seconds = best_seconds(one_at_a_time, args.rounds)
            last_epoch = run.history["epochs"][-1]
            rows.append((cell, batched_seconds, loop_seconds))
            print(
                f"{cell:6s} batched {batched_seconds:7.3f} s | one at a time {loop_seconds:7.2f} s | "
                f"ratio {loop_seconds / batched_seconds:6.1f}x  (after {last_epoch['epoch']} epochs: training loss "
                f"{last_epoch['train_loss']:.3f}, validation loss {last_epoch['val_loss']:.3f} nats/token)"
            )
            print(f"       sample: {' '.join(sequences.note_name(pitch) for pitch in songs[0])}", flush=True)
    missed = [cell for cell, batched_seconds, loop_seconds in rows if loop_seconds / batched_seconds < TARGET_RATIO]
    print(f"\ntarget >= {TARGET_RATIO}x: " + ("met by every cell" if not missed else f"missed by {', '.join(missed)}"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
