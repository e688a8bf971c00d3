"""Where our training path's time goes besides the arithmetic (issue 21): the bare step against ours, in one process.

    python benchmarks/steps.py [--songs 3000] [--rounds 5]

``benchmarks/cpu.py`` compares whole runs, each in a fresh process, and on a shared machine the
processes' speeds scatter by a third. Here every model trains in the same process, one epoch of
``model.fit`` each in turn over ``--rounds`` rounds (after one warm-up epoch each), so that they
share the machine's ups and downs. The models build up from the bare LSTM of
``benchmarks/training.py`` to what :func:`musiclib.models.train.train` runs between its
validation checks:

- ``bare``: ``Embedding + 2 x keras.layers.LSTM(128) + Dense``, stateless, Adam at a fixed rate;
- ``stateless``: :func:`musiclib.models.network.build_model` (the same layers, our initializers);
- ``stateful``: the same, carrying the recurrent states from batch to batch (the paper's batching);
- ``+ callback``: and, as :class:`musiclib.models.training_loop.TrainingLoop`, zeroing Keras' running
  loss before each batch and reading the batch's loss after it (which waits for the step to end);
- ``+ schedule``: and the paper's learning-rate schedule (0.97 per epoch, staircase): the model that
  ``train`` compiles (``musiclib.models.train._compiled_training_model``);
- ``+ pipeline``: and the batches fed as :func:`musiclib.models.training_loop.fit_data` feeds them
  (on TensorFlow a ``tf.data`` pipeline without autotuning, where the others hand ``fit`` the
  NumPy arrays): what ``train`` runs.

Printed per model: the median and best tokens/s over the rounds, the median's ratio to the bare
LSTM's, and the epochs that ran at about one core's speed: within 2 % of the slowest epoch of all
models, when that is below 0.7 times the fastest (on the 2-core AMD EPYC such epochs ran at 29,500
to 29,800 tokens/s, the fastest at up to 55,000). What the whole path adds on top (validation checks, resume points) is the
``overhead`` column of ``benchmarks/cpu.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
MODELS = ("bare", "stateless", "stateful", "+ callback", "+ schedule", "+ pipeline")
ONE_CORE_BAND = 1.02
"""Epochs within this factor of the slowest epoch count as run on about one core..."""
ONE_CORE_GAP = 0.7
"""... when the slowest epoch is below this fraction of the fastest (else none do)."""


def build(name: str, vocab_size: int, steps_per_epoch: int):
    """The compiled model ``name`` of :data:`MODELS` (2 x 128, batches of 50, Adam, clipping 5)."""
    import keras
    from training import bare_lstm

    from musiclib.models.network import build_model
    from musiclib.models.train import TrainConfig, _compiled_training_model

    config = TrainConfig(num_layers=2, rnn_size=128)
    if name == "bare":
        return bare_lstm(vocab_size, config)
    if name in ("+ schedule", "+ pipeline"):
        return _compiled_training_model(config, vocab_size, steps_per_epoch)  # what train() trains
    model = build_model("lstm", 2, vocab_size, 128, batch_size=config.batch_size, stateful=name != "stateless", seed=0)
    model.compile(
        optimizer=keras.optimizers.Adam(config.learning_rate, global_clipnorm=config.grad_clip),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=int, default=3000, help="Essen control training melodies")
    parser.add_argument("--rounds", type=int, default=8, help="epochs timed per model, interleaved")
    args = parser.parse_args()
    sys.path.insert(0, str(REPOSITORY))
    sys.path.insert(0, str(REPOSITORY / "benchmarks"))
    from musiclib.common.console import load_tensorflow_quietly

    load_tensorflow_quietly()
    import keras
    from cpu import cpu_model
    from training import essen_splits

    from musiclib.data.sequences import prepare_variant
    from musiclib.models.train import paper_batches
    from musiclib.models.training_loop import fit_data

    class PerBatch(keras.callbacks.Callback):
        """What TrainingLoop does around every batch, besides its bookkeeping in Python."""

        def on_train_batch_begin(self, batch, logs=None):
            self.model.reset_metrics()

        def on_train_batch_end(self, batch, logs=None):
            float(logs["loss"])

    data = prepare_variant(essen_splits(args.songs), "control")
    batches = paper_batches(data.train, data.vocab, 50, 50)
    inputs, targets = batches.rows()
    print(f"CPU: {cpu_model()}; 2 x 128 LSTM, {batches.num_tokens:,} tokens per epoch; {args.rounds} interleaved rounds")
    models = {name: build(name, len(data.vocab), len(inputs) // 50) for name in MODELS}
    speeds: dict[str, list[float]] = {name: [] for name in MODELS}
    for round_ in range(args.rounds + 1):  # (round 0 warms up: tracing)
        for name, model in models.items():
            callbacks = [PerBatch()] if name.startswith("+") else []
            data_arguments = fit_data(inputs, targets, 50) if name == "+ pipeline" else {"x": inputs, "y": targets, "batch_size": 50}
            started = time.perf_counter()
            model.fit(**data_arguments, epochs=1, shuffle=False, verbose=0, callbacks=callbacks)
            if round_:
                speeds[name].append(batches.num_tokens / (time.perf_counter() - started))
    bare = statistics.median(speeds["bare"])
    slowest, fastest = min(map(min, speeds.values())), max(map(max, speeds.values()))
    one_core = slowest * ONE_CORE_BAND if slowest < ONE_CORE_GAP * fastest else 0.0
    print(f"{'model':<12}{'median tokens/s':>17}{'best':>10}{'/ bare':>8}{'epochs on about one core':>26}")
    for name, values in speeds.items():
        median = statistics.median(values)
        slow = sum(value <= one_core for value in values)
        print(f"{name:<12}{median:>17,.0f}{max(values):>10,.0f}{median / bare:>8.2f}{f'{slow} of {len(values)}':>26}")


if __name__ == "__main__":
    main()
