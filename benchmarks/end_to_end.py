"""End-to-end training speed (issue 9): ``musiclib.models.train.train`` against a bare ``model.fit``, timed in one process.

    python benchmarks/end_to_end.py                       # 2 x 128 LSTM, 1000 Essen songs, 4 epochs, 2 rounds
    python benchmarks/end_to_end.py --songs 0 --epochs 3  # all of Essen

Both sides train a 2 x 128 LSTM on the paper's batches (50 x 50) of the same Essen control melodies
for the same number of epochs, from a fresh model, and both clocks include everything a user waits
for: building and compiling the model and tracing its training step.

- bare: ``Embedding + 2 x keras.layers.LSTM + Dense`` and one ``model.fit(epochs=E)`` call, with
  no validation, checkpoints, logs or saved files: the floor for this model and data.
- ours: ``musiclib.models.train.train`` into a fresh run directory: the stateful model, per-step history
  and TensorBoard scalars, a validation check every epoch, checkpoints, resume points, best and
  final models, projector files.

Printed: tokens/s end to end of each (training tokens x epochs / wall seconds), tokens per CPU
second of the process (steadier than wall time when other processes compete for the cores), the
ratios, and where our time goes (validation checks, saved files, the rest of the fit calls). Rounds
alternate bare and ours and the fastest of each is kept: on a shared machine the fastest run is the
one least slowed by other work, so the machine's load should be reported with the numbers.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from contextlib import ExitStack, contextmanager

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def control_data(songs: int):
    """The control variant of the hash split of the first ``songs`` Essen melodies (0 = all)."""
    from musiclib.data.corpus import load_corpus
    from musiclib.data.sequences import prepare_variant, split_melodies

    corpus = load_corpus("essen", max_songs=songs or None, progress=False)
    return prepare_variant(split_melodies(corpus.melodies), "control")


def bare_seconds(variant_data, epochs: int) -> tuple[float, float]:
    """Wall and CPU seconds of building, compiling and ``fit``-ting a bare 2 x 128 LSTM for ``epochs`` epochs."""
    import keras
    from training import bare_lstm  # benchmarks/training.py, next to this script

    from musiclib.models.train import TrainConfig, paper_batches

    started, cpu_started = time.perf_counter(), time.process_time()
    config = TrainConfig(num_layers=2, rnn_size=128)
    keras.utils.set_random_seed(0)
    inputs, targets = paper_batches(variant_data.train, variant_data.vocab, config.batch_size, config.seq_length).rows()
    model = bare_lstm(len(variant_data.vocab), config)
    model.fit(inputs, targets, batch_size=config.batch_size, epochs=epochs, shuffle=False, verbose=0)
    return time.perf_counter() - started, time.process_time() - cpu_started


@contextmanager
def timed(owner, name: str, totals: dict, label: str):
    """Add the wall seconds of every call of ``owner.name`` to ``totals[label]`` while inside."""
    original = getattr(owner, name)

    def wrapper(*arguments, **keywords):
        started = time.perf_counter()
        try:
            return original(*arguments, **keywords)
        finally:
            totals[label] = totals.get(label, 0.0) + time.perf_counter() - started

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        setattr(owner, name, original)


def our_seconds(variant_data, epochs: int) -> tuple[float, float, dict]:
    """Wall and CPU seconds of ``musiclib.models.train.train`` (2 x 128 LSTM, ``epochs`` epochs) and its parts (wall)."""
    import keras

    from musiclib.models import train as training

    config = training.TrainConfig(num_layers=2, rnn_size=128, num_epochs=epochs)
    parts: dict[str, float] = {}
    with ExitStack() as stack:
        run_dir = stack.enter_context(tempfile.TemporaryDirectory())
        stack.enter_context(timed(keras.Model, "fit", parts, "fit calls"))
        try:  # the parts of the loop (absent from musiclib versions before issue 9: then the total only)
            from musiclib.models.training_loop import TrainingLoop
        except ImportError:
            TrainingLoop = None
        if TrainingLoop is not None:
            stack.enter_context(timed(TrainingLoop, "check", parts, "validation checks"))
            stack.enter_context(timed(TrainingLoop, "save_resume_point", parts, "resume points"))
            stack.enter_context(timed(TrainingLoop, "save_checkpoint", parts, "checkpoints"))
            stack.enter_context(timed(training, "_finish", parts, "best/final models + projector"))
        started, cpu_started = time.perf_counter(), time.process_time()
        training.train(config, variant_data, run_dir, progress=False)
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return seconds, cpu_seconds, parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=int, default=1000, help="Essen melodies before the split (0 = all; default 1000)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run (default 4)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds, fastest kept (default 2)")
    args = parser.parse_args()

    from musiclib.models.train import paper_batches

    variant_data = control_data(args.songs)
    tokens = paper_batches(variant_data.train, variant_data.vocab, 50, 50).num_tokens * args.epochs
    print(
        f"2 x 128 LSTM, batches of 50 x 50, {len(variant_data.train)} training songs (control), "
        f"{args.epochs} epochs = {tokens:,} training tokens per run; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores",
        flush=True,
    )
    bare = bare_cpu = ours = ours_cpu = float("inf")
    parts: dict[str, float] = {}
    for round_number in range(1, args.rounds + 1):
        seconds, cpu_seconds = bare_seconds(variant_data, args.epochs)
        bare, bare_cpu = min(bare, seconds), min(bare_cpu, cpu_seconds)
        seconds, cpu_seconds, round_parts = our_seconds(variant_data, args.epochs)
        if seconds < ours:
            ours, parts = seconds, round_parts
        ours_cpu = min(ours_cpu, cpu_seconds)
        print(f"  round {round_number}: bare {bare:.1f} s, ours {seconds:.1f} s (wall)", flush=True)
    print(f"{'':<24}{'tokens/s (wall)':>16}{'tokens per CPU-s':>18}")
    print(f"{'bare model.fit':<24}{tokens / bare:>16,.0f}{tokens / bare_cpu:>18,.0f}")
    print(f"{'musiclib.models.train.train':<24}{tokens / ours:>16,.0f}{tokens / ours_cpu:>18,.0f}")
    print(f"{'ratio ours / bare':<24}{bare / ours:>16.2f}{bare_cpu / ours_cpu:>18.2f}")
    print("(CPU seconds of the whole process, all threads: less sensitive to other work on a shared machine)")
    print("where our time goes (fastest round; checkpoints are written inside the fit calls):")
    for label, seconds in sorted(parts.items(), key=lambda item: -item[1]):
        print(f"  {label:<32}{seconds:>7.2f} s")
    outside = ours - sum(seconds for label, seconds in parts.items() if label != "checkpoints")
    print(f"  {'the rest (batching, model build)':<32}{outside:>7.2f} s")


if __name__ == "__main__":
    main()
