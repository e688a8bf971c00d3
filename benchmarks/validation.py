"""Validation checks with and without XLA, per cell (issue 21): what ``XLA_SCORED_CELLS`` is chosen from.

    python benchmarks/validation.py [--cells lstm gru rnn ugrnn nas] [--songs N] [--threads 1] [--repeats 6]

A validation check (:func:`musiclib.models.training_loop.songs_cross_entropy`) scores every
validation song of Essen's control variant, each from a zero state, with the forward pass of
:func:`musiclib.models.training_loop.song_scorer` over the length-sorted, padded batches that
training lays out (:func:`musiclib.models.training_loop.song_batches`). For each cell (a 2 x 128
model) the scorer runs without XLA and with it (``jit_compile=True``) in the same process; printed
are the first call (tracing, and XLA's compilation of every batch shape: paid once per run), the
median of ``--repeats`` later calls (paid at every check), their ratio (without over with: above 1,
XLA is faster), the number of checks after which XLA's dearer first call is paid back, and the
difference between the two losses (nats per note).

``--threads 1`` sizes TensorFlow's thread pools as a grid worker on 2 cores does when two runs
train at once (:func:`musiclib.experiments.cluster.worker_thread_environment`). To measure what an
AVX2-only CPU gets on a machine with AVX-512, run it under ``python tools/avx2_only.py`` (XLA then
compiles for AVX2 too), or, where that tool cannot run, with ``ONEDNN_MAX_CPU_ISA=AVX2`` (oneDNN only).
Run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def check_seconds(scorer, batches, repeats: int) -> tuple[float, float, float]:
    """Seconds of the first check, the median of ``repeats`` later ones, and the loss (nats per note)."""
    from musiclib.models.training_loop import songs_cross_entropy

    started = time.perf_counter()
    songs_cross_entropy(scorer, batches)
    first = time.perf_counter() - started
    songs_cross_entropy(scorer, batches)  # (a second trace, should Keras relax the shapes)
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        loss = songs_cross_entropy(scorer, batches)
        seconds.append(time.perf_counter() - started)
    return first, statistics.median(seconds), loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", nargs="+", default=["lstm", "gru", "rnn", "ugrnn", "nas"])
    parser.add_argument("--songs", type=int, default=10**6, help="Essen control training melodies (validation: an eighth as many; default all)")
    parser.add_argument("--threads", type=int, help="TensorFlow threads (default: TensorFlow's, all cores)")
    parser.add_argument("--repeats", type=int, default=6, help="checks timed after the first two")
    args = parser.parse_args()
    if args.threads:
        os.environ.update(TF_NUM_INTRAOP_THREADS=str(args.threads), TF_NUM_INTEROP_THREADS=str(args.threads))
    sys.path.insert(0, str(REPOSITORY))
    sys.path.insert(0, str(REPOSITORY / "benchmarks"))
    from musiclib.common.console import load_tensorflow_quietly

    load_tensorflow_quietly()
    from cpu import cpu_model
    from training import essen_splits

    from musiclib.data.sequences import prepare_variant
    from musiclib.models.network import build_model
    from musiclib.models.training_loop import song_batches, song_scorer

    data = prepare_variant(essen_splits(args.songs), "control")
    batches = song_batches([data.vocab.encode(song) for song in data.validation])
    isa = f"; oneDNN capped at {os.environ['ONEDNN_MAX_CPU_ISA']}" if "ONEDNN_MAX_CPU_ISA" in os.environ else ""
    print(f"CPU: {cpu_model()}; threads: {args.threads or 'TensorFlow default'}{isa}")
    print(f"{batches.num_notes:,} validation notes in {len(batches.inputs)} batches ({batches.num_padded:,} padded positions)")
    print(f"{'cell':<7}{'first, plain':>14}{'first, XLA':>12}{'check, plain':>14}{'check, XLA':>12}{'plain / XLA':>13}{'paid back after':>17}{'loss diff':>11}")
    for cell in args.cells:
        model = build_model(cell, 2, len(data.vocab), 128, seed=0)
        plain_first, plain, plain_loss = check_seconds(song_scorer(model, False), batches, args.repeats)
        xla_first, xla, xla_loss = check_seconds(song_scorer(model, True), batches, args.repeats)
        saved = plain - xla
        payback = f"{math.ceil((xla_first - plain_first) / saved)} checks" if saved > 0 else "never"
        print(f"{cell:<7}{plain_first:>13.2f}s{xla_first:>11.2f}s{plain * 1000:>11.0f} ms{xla * 1000:>9.0f} ms"
              f"{plain / xla:>13.2f}{payback:>17}{abs(plain_loss - xla_loss):>11.1e}", flush=True)


if __name__ == "__main__":
    main()
