"""Training benchmarks (issue 4): throughput of our training path, and convergence of every paper cell.

    python benchmarks/training.py throughput   # tokens/s per cell vs a bare keras LSTM, per Keras backend
    python benchmarks/training.py convergence  # 2-layer lstm / nas / ugrnn on control, interval, DB12
    python benchmarks/training.py              # both

Throughput: lstm, gru, nas and ugrnn at 2 layers x 128 units go through ``musiclib.models.train.train``
(stateful model, the paper's batches, per-step history, checkpoints, validation every epoch) on the
real Essen control batches (the first ``--songs`` training melodies); next to them a bare
``Embedding + 2 x keras.layers.LSTM + Dense`` model is trained with ``model.fit`` on the same
batches (validation included, as in ours). Each model's speed is that of its fastest epoch after
the first (which pays for tracing) over ``--rounds`` interleaved rounds: on a shared machine the
fastest epoch is the one least slowed by other work. Targets (issue 4), as ratios to the bare LSTM:
lstm >= 0.9, ugrnn >= 1.0, nas >= 0.4. Every installed Keras backend that musiclib trains on
(tensorflow, torch; not jax, which drops the carried recurrent states:
``musiclib.models.settings.STATELESS_BATCH_BACKENDS``) is measured in its own subprocess with
``KERAS_BACKEND`` set.

Convergence: each paper cell (lstm, nas, ugrnn) at 2 layers x 128 units trains briefly on each
variant (the first ``--songs`` training melodies of the hash split of Essen and an eighth as many
validation melodies); the first and last epochs' training and validation losses (nats per token)
are printed, and whether both fell.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

THROUGHPUT_MODELS = ("lstm", "gru", "nas", "ugrnn")
CONVERGENCE_CELLS = ("lstm", "nas", "ugrnn")
TARGET_RATIOS = {"lstm": 0.9, "ugrnn": 1.0, "nas": 0.4}
BACKENDS = ("tensorflow", "torch")  # (musiclib does not train on jax: check_backend)
BASELINE = "bare keras LSTM"


def essen_splits(songs: int, melodies_file: str | None = None):
    """The hash split of the whole Essen collection, cut to its first ``songs`` training melodies
    and ``songs // 8`` validation melodies. The melodies are parsed with music21, or read from
    ``melodies_file`` (``python benchmarks/runs.py save-melodies FILE``) on a machine without it."""
    from musiclib.data import corpus, sequences

    if melodies_file:
        melodies = pickle.loads(Path(melodies_file).read_bytes())
    else:
        melodies = corpus.load_corpus("essen", progress=False).melodies
    splits = sequences.split_melodies(melodies)
    return sequences.Splits(train=splits.train[:songs], validation=splits.validation[: max(songs // 8, 1)], test=[])


def bare_lstm(vocab_size: int, config):
    """``Embedding + 2 x keras.layers.LSTM(128) + Dense``, compiled with the recipe's Adam, clipping and loss."""
    import keras

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
    return model


def bare_lstm_tokens_per_second(variant_data, epochs: int, *, sustained: bool = False) -> float:
    """Tokens/s of Embedding + 2 LSTM(128) + Dense trained with plain ``model.fit`` on the paper's batches:
    of its fastest epoch after the first, or with ``sustained`` of its mean epoch after the first."""
    import keras

    from musiclib.models.train import TrainConfig, paper_batches

    config = TrainConfig(num_layers=2, rnn_size=128)
    keras.utils.set_random_seed(0)
    train_batches = paper_batches(variant_data.train, variant_data.vocab, config.batch_size, config.seq_length)
    validation = paper_batches(variant_data.validation, variant_data.vocab, config.batch_size, config.seq_length, split="validation")
    model = bare_lstm(len(variant_data.vocab), config)

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # after validation, as our epochs' seconds
            self.seconds.append(time.perf_counter() - self.started)

    timer = EpochTimer()
    inputs, targets = train_batches.rows()
    model.fit(
        inputs, targets, batch_size=config.batch_size, epochs=epochs, shuffle=False, verbose=0,
        validation_data=validation.rows(), callbacks=[timer],
    )  # fmt: skip
    seconds = timer.seconds[1:]
    return train_batches.num_tokens / (sum(seconds) / len(seconds) if sustained else min(seconds))


def our_tokens_per_second(cell: str, variant_data, epochs: int) -> float:
    """Tokens/s of ``musiclib.models.train.train`` for a 2 x 128 model of ``cell`` (epochs after the first)."""
    from musiclib.models.train import TrainConfig, paper_batches, train

    config = TrainConfig(model=cell, num_layers=2, rnn_size=128, num_epochs=epochs, save_every=10**6)
    tokens = paper_batches(variant_data.train, variant_data.vocab, config.batch_size, config.seq_length).num_tokens
    with tempfile.TemporaryDirectory() as run_dir:
        run = train(config, variant_data, run_dir, progress=False)
    return tokens / min(epoch["seconds"] for epoch in run.history["epochs"][1:])


def throughput_worker(epochs: int, rounds: int, songs: int, melodies_file: str | None = None) -> None:
    """Measure this process's backend; print one JSON line {model: tokens/s} (best of the rounds)."""
    from musiclib.data import sequences

    variant_data = sequences.prepare_variant(essen_splits(songs, melodies_file), "control")
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name in (BASELINE, *THROUGHPUT_MODELS):
            if name == BASELINE:
                speed = bare_lstm_tokens_per_second(variant_data, epochs)
            else:
                speed = our_tokens_per_second(name, variant_data, epochs)
            best[name] = max(best.get(name, 0.0), speed)
            print(f"  {name}: {speed:,.0f} tokens/s", file=sys.stderr, flush=True)
    print(json.dumps(best))


def throughput(epochs: int, rounds: int, songs: int, melodies_file: str | None = None) -> None:
    """Run the throughput worker once per installed Keras backend and print the ratios to the bare LSTM."""
    installed = [backend for backend in BACKENDS if importlib.util.find_spec(backend) is not None]
    print(f"Training throughput, 2 layers x 128 units, batches of 50 x 50, {songs} Essen control melodies; backends: {', '.join(installed)}")
    for backend in installed:
        command = [sys.executable, __file__, "throughput-worker", "--epochs", str(epochs), "--rounds", str(rounds), "--songs", str(songs)]
        command += ["--melodies", melodies_file] if melodies_file else []
        print(f"\n[{backend}] measuring ...", flush=True)
        started = time.perf_counter()
        result = subprocess.run(
            command, env={**os.environ, "KERAS_BACKEND": backend}, stdout=subprocess.PIPE, text=True, check=False
        )
        if result.returncode != 0:
            print(f"[{backend}] failed (exit status {result.returncode})")
            continue
        speeds = json.loads(result.stdout.strip().splitlines()[-1])
        baseline = speeds[BASELINE]
        print(f"[{backend}] {time.perf_counter() - started:.0f} s")
        print(f"{'model':<18}{'tokens/s':>12}{'ratio':>8}{'target':>9}")
        for name, speed in speeds.items():
            target = TARGET_RATIOS.get(name)
            verdict = "" if target is None else f">= {target:.1f} {'ok' if speed / baseline >= target else 'MISSED'}"
            print(f"{name:<18}{speed:>12,.0f}{speed / baseline:>8.2f}  {verdict}")


def convergence(epochs: dict[str, int], songs: int) -> None:
    """Train each paper cell briefly on each variant; print first / last epoch losses and whether they fell."""
    from musiclib.data import sequences
    from musiclib.models.train import TrainConfig, train

    splits = essen_splits(songs)
    print(f"\nConvergence: 2 layers x 128 units, {len(splits.train)} training / {len(splits.validation)} validation melodies of Essen")
    print(f"{'variant':<10}{'cell':<7}{'epochs':>7}{'train first -> last':>22}{'val first -> last':>20}  falling")
    for variant in sequences.VARIANTS:
        variant_data = sequences.prepare_variant(splits, variant)
        for cell in CONVERGENCE_CELLS:
            config = TrainConfig(variant=variant, model=cell, num_layers=2, rnn_size=128, num_epochs=epochs[variant])
            with tempfile.TemporaryDirectory() as run_dir:
                history = train(config, variant_data, run_dir, progress=False).history["epochs"]
            first, last = history[0], history[-1]
            falling = last["train_loss"] < first["train_loss"] and last["val_loss"] < first["val_loss"]
            print(
                f"{variant:<10}{cell:<7}{len(history):>7}"
                f"{first['train_loss']:>12.3f} -> {last['train_loss']:.3f}"
                f"{first['val_loss']:>11.3f} -> {last['val_loss']:.3f}  {'yes' if falling else 'NO'}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", nargs="?", default="all", choices=("all", "throughput", "convergence", "throughput-worker"))
    parser.add_argument("--epochs", type=int, default=3, help="throughput: epochs per measurement (the first is not counted)")
    parser.add_argument("--rounds", type=int, default=2, help="throughput: interleaved rounds, best kept")
    parser.add_argument("--songs", type=int, help="training melodies (default: 2000 for throughput, 1000 for convergence)")
    parser.add_argument("--melodies", help="throughput: Essen's melodies from a runs.py save-melodies file, not music21")
    parser.add_argument("--convergence_epochs", type=int, nargs=3, default=(5, 5, 2), metavar=("CONTROL", "INTERVAL", "DB12"))
    args = parser.parse_args()
    if args.part == "throughput-worker":
        throughput_worker(args.epochs, args.rounds, args.songs or 2000, args.melodies)
        return
    if args.part in ("all", "throughput"):
        throughput(args.epochs, args.rounds, args.songs or 2000, args.melodies)
    if args.part in ("all", "convergence"):
        convergence(dict(zip(("control", "interval", "db12"), args.convergence_epochs)), args.songs or 1000)


if __name__ == "__main__":
    main()
