"""End-to-end training speed (issue 9): ``musiclib.train.train`` against a bare ``model.fit``, timed in one process.

    python benchmarks/end_to_end.py                       # 2 x 128 LSTM, 1000 Essen songs, 4 epochs, 2 rounds
    python benchmarks/end_to_end.py --songs 0 --epochs 3  # all of Essen

Both sides train a 2 x 128 LSTM on the paper's batches (50 x 50) of the same Essen control melodies
for the same number of epochs, from a fresh model, and both clocks include everything a user waits
for: building and compiling the model and tracing its training step.

- bare: ``Embedding + 2 x keras.layers.LSTM + Dense`` and one ``model.fit(epochs=E)`` call, with
  no validation, checkpoints, logs or saved files: the floor for this model and data.
- ours: ``musiclib.train.train`` into a fresh run directory: the stateful model, per-step history
  and TensorBoard scalars, a validation check every epoch, checkpoints, resume points, best and
  final models, projector files.

Printed: tokens/s end to end of each (training tokens x epochs / wall seconds), their ratio, and
where our extra time goes (validation checks, saved files, the rest of the fit calls). Rounds
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
    from musiclib import data

    corpus = data.load_corpus("essen", max_songs=songs or None, progress=False)
    return data.prepare_variant(data.split_melodies(corpus.melodies), "control")


def bare_seconds(variant_data, epochs: int) -> float:
    """Wall seconds of building, compiling and ``fit``-ting a bare 2 x 128 LSTM for ``epochs`` epochs."""
    import keras

    from musiclib.train import TrainConfig, paper_batches

    started = time.perf_counter()
    config = TrainConfig(num_layers=2, rnn_size=128)
    keras.utils.set_random_seed(0)
    inputs, targets = paper_batches(variant_data.train, variant_data.vocab, config.batch_size, config.seq_length).rows()
    vocab_size = len(variant_data.vocab)
    model = keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(vocab_size, 128),
            keras.layers.LSTM(128, return_sequences=True),
            keras.layers.LSTM(128, return_sequences=True),
            keras.layers.Dense(vocab_size),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, global_clipnorm=config.grad_clip),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(inputs, targets, batch_size=config.batch_size, epochs=epochs, shuffle=False, verbose=0)
    return time.perf_counter() - started


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


def our_seconds(variant_data, epochs: int) -> tuple[float, dict]:
    """Wall seconds of ``musiclib.train.train`` (2 x 128 LSTM, ``epochs`` epochs) and its parts."""
    import keras

    from musiclib import train as training

    config = training.TrainConfig(num_layers=2, rnn_size=128, num_epochs=epochs)
    parts: dict[str, float] = {}
    with ExitStack() as stack:
        run_dir = stack.enter_context(tempfile.TemporaryDirectory())
        stack.enter_context(timed(keras.Model, "fit", parts, "fit calls"))
        try:  # the parts of the loop (absent from musiclib versions before issue 9: then the total only)
            from musiclib.training_loop import TrainingLoop
        except ImportError:
            TrainingLoop = None
        if TrainingLoop is not None:
            stack.enter_context(timed(TrainingLoop, "check", parts, "validation checks"))
            stack.enter_context(timed(TrainingLoop, "save_resume_point", parts, "resume points"))
            stack.enter_context(timed(TrainingLoop, "save_checkpoint", parts, "checkpoints"))
            stack.enter_context(timed(training, "_finish", parts, "best/final models + projector"))
        started = time.perf_counter()
        training.train(config, variant_data, run_dir, progress=False)
        seconds = time.perf_counter() - started
    return seconds, parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=int, default=1000, help="Essen melodies before the split (0 = all; default 1000)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run (default 4)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds, fastest kept (default 2)")
    args = parser.parse_args()

    from musiclib.train import paper_batches

    variant_data = control_data(args.songs)
    tokens = paper_batches(variant_data.train, variant_data.vocab, 50, 50).num_tokens * args.epochs
    print(
        f"2 x 128 LSTM, batches of 50 x 50, {len(variant_data.train)} training songs (control), "
        f"{args.epochs} epochs = {tokens:,} training tokens per run; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores",
        flush=True,
    )
    bare, ours, parts = float("inf"), float("inf"), {}
    for round_number in range(1, args.rounds + 1):
        bare = min(bare, bare_seconds(variant_data, args.epochs))
        seconds, round_parts = our_seconds(variant_data, args.epochs)
        if seconds < ours:
            ours, parts = seconds, round_parts
        print(f"  round {round_number}: bare {bare:.1f} s, ours {seconds:.1f} s", flush=True)
    print(f"{'bare model.fit':<28}{tokens / bare:>10,.0f} tokens/s end to end ({bare:.1f} s)")
    print(f"{'musiclib.train.train':<28}{tokens / ours:>10,.0f} tokens/s end to end ({ours:.1f} s)")
    print(f"{'ratio ours / bare':<28}{bare / ours:>10.2f}")
    print("where our time goes (fastest round; checkpoints are written inside the fit calls):")
    for label, seconds in sorted(parts.items(), key=lambda item: -item[1]):
        print(f"  {label:<32}{seconds:>7.2f} s")
    outside = ours - sum(seconds for label, seconds in parts.items() if label != "checkpoints")
    print(f"  {'the rest (batching, model build)':<32}{outside:>7.2f} s")


if __name__ == "__main__":
    main()
