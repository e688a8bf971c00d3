"""Does a cell train to the same losses on Keras' JAX backend as on TensorFlow? (issue 21: a cell may
move to the JAX backend only if its results stay within the tolerance of the resume and cluster tests)

    PYTHONPATH=/path/to/jax python benchmarks/backends.py [--cells lstm nas ugrnn] [--songs 300] [--steps 30]

For each cell, a TensorFlow process builds the study recipe's compiled training model (2 x 128,
stateful, batches of 50 x 50, Adam with clipping 5, XLA as the training setting ``xla = "auto"``
asks: ``musiclib.models.train``'s own), writes its initial weights and trains ``--steps`` batches of
the first ``--songs`` Essen control melodies with ``train_on_batch``, recording each step's loss:
once carrying the recurrent states from batch to batch, as training does, and once with the states
zeroed before every batch. A JAX process builds the same model from the same seed, compares the
initial weights it drew with TensorFlow's, loads TensorFlow's and trains the same batches, carrying
the states as Keras does on JAX.

Printed per cell: whether the same seed draws the same initial weights, and the largest
difference (nats per note) between the JAX losses and each TensorFlow series over the first step,
over the rest, against the 1e-6 nats to which ``tests/models/test_train.py`` holds a resumed run to
an uninterrupted one. Measured (2026-12-07, Keras 3.15.1, JAX 0.10.2; see
``musiclib.models.settings.STATELESS_BATCH_BACKENDS``): the JAX losses follow TensorFlow's with the
states zeroed, not with them carried, so musiclib does not train on JAX. JAX is not in the lock:
install it first (``pip install jax``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-6  # nats per note: tests/models/test_train.py's resume equality

WORKER = """
import json, os, sys
import numpy as np
sys.path.insert(0, os.path.join(sys.argv[1], "benchmarks"))
from musiclib.common.console import load_tensorflow_quietly
load_tensorflow_quietly()
import keras
from training import essen_splits
from musiclib.data.sequences import prepare_variant
from musiclib.models.network import reset_states
from musiclib.models.train import TrainConfig, _compiled_training_model, paper_batches
cell, songs, steps, folder, zeroed = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6] == "zeroed"
data = prepare_variant(essen_splits(songs), "control")
config = TrainConfig(model=cell, num_layers=2, rnn_size=128)
batches = paper_batches(data.train, data.vocab, config.batch_size, config.seq_length)
model = _compiled_training_model(config, len(data.vocab), batches.num_batches)
drawn = [np.asarray(keras.ops.convert_to_numpy(w)) for w in model.weights]
initial = os.path.join(folder, f"{cell}.npz")
if os.path.exists(initial):
    saved = np.load(initial)
    first = [saved[f"arr_{i}"] for i in range(len(drawn))]
    weights_differ = max(float(np.abs(a - b).max()) for a, b in zip(drawn, first))
    model.set_weights(first)
else:
    np.savez(initial, *drawn)
    weights_differ = 0.0
losses = []
for step in range(steps):
    if zeroed:
        reset_states(model)
    batch = step % batches.num_batches
    losses.append(float(model.train_on_batch(batches.inputs[batch], batches.targets[batch])))
print(json.dumps({"weights_differ": weights_differ, "losses": losses}))
"""


def run(backend: str, cell: str, songs: int, steps: int, folder: str, zeroed: bool = False) -> dict:
    """One process's initial-weight comparison and step losses (the backend is per process)."""
    environment = {**os.environ, "KERAS_BACKEND": backend}
    mode = "zeroed" if zeroed else "carried"
    command = [sys.executable, "-c", WORKER, str(REPOSITORY), cell, str(songs), str(steps), folder, mode]
    process = subprocess.run(command, check=False, env=environment, capture_output=True, text=True)
    if process.returncode != 0:
        raise SystemExit(f"{cell} on {backend} failed:\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def largest_difference(first: list[float], second: list[float]) -> str:
    """The largest absolute difference of two loss series, marked when beyond :data:`TOLERANCE`."""
    difference = max(abs(a - b) for a, b in zip(first, second))
    return f"{difference:.2g}{' (beyond)' if difference > TOLERANCE else ''}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", nargs="+", default=["lstm", "nas", "ugrnn"])
    parser.add_argument("--songs", type=int, default=300, help="Essen control training melodies")
    parser.add_argument("--steps", type=int, default=30, help="training steps (batches) compared")
    args = parser.parse_args()
    print(f"2 x 128, {args.songs} Essen control melodies, {args.steps} steps; tolerance {TOLERANCE:g} nats per note")
    print("| cell | same seed, same initial weights? | JAX - TF, step 1 | JAX - TF with states carried, later steps "
          "| JAX - TF with states zeroed before each batch, later steps |")
    print("|---|---|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as folder:
        for cell in args.cells:
            carried = run("tensorflow", cell, args.songs, args.steps, folder)["losses"]
            zeroed = run("tensorflow", cell, args.songs, args.steps, folder, zeroed=True)["losses"]
            jax = run("jax", cell, args.songs, args.steps, folder)
            same = "yes" if jax["weights_differ"] == 0 else f"no (up to {jax['weights_differ']:.3g} apart)"
            print(f"| {cell} | {same} | {largest_difference(jax['losses'][:1], carried[:1])} "
                  f"| {largest_difference(jax['losses'][1:], carried[1:])} "
                  f"| {largest_difference(jax['losses'][1:], zeroed[1:])} |", flush=True)


if __name__ == "__main__":
    main()
