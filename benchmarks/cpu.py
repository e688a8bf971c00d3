"""Training speed on this CPU (issue 21): our training path against a bare Keras LSTM, oneDNN off and
on, one run and two at once, as fractions of a matrix-multiply roofline measured in the same run.

    python benchmarks/cpu.py [--cells lstm nas ugrnn] [--songs 1000] [--epochs 5] [--rounds 2]
                             [--at_once 1 2] [--onednn off on] [--xla auto off on] [--onednn_isa AVX2]

Every measurement is a fresh process (TensorFlow reads ``TF_ENABLE_ONEDNN_OPTS`` once, when it loads)
that trains a 2 x 128 model with the ``study`` recipe (batches of 50 x 50, Adam, clipping 5) on the
first ``--songs`` training melodies of Essen's control variant for ``--epochs`` epochs, and reports
tokens per second sustained over its epochs after the first (the first pays for tracing): their
tokens over their summed seconds. Not the fastest epoch: with two runs at once, a run's fastest
epoch is the one during which the other run was validating, saving or starting, so the pair's sum
of fastest epochs overstates what the two reach together (in the study's grid on 2 cores, a
2 x 128 LSTM's epochs took 12 s while the other worker was between runs and 21 s while both
trained). The best of ``--rounds`` interleaved rounds is kept. "Ours" is ``musiclib.models.train.train`` (stateful model,
per-step history, checkpoints, a validation check per epoch and a resume point after it: all
counted), with its overhead, the share of its time that went to other work than training steps
(:func:`musiclib.models.training_loop.epoch_overhead`; issue 21 asks for under 10 %);
"bare" is ``Embedding + 2 x keras.layers.LSTM + Dense`` through plain ``model.fit`` with validation
(``benchmarks/training.py``).

Conditions:

- ``oneDNN off``: ``TF_ENABLE_ONEDNN_OPTS=0``, TensorFlow's default on CPUs without AVX-512-class
  features (most laptops and many servers); ``oneDNN on``: ``=1``, musiclib's default everywhere
  (:func:`musiclib.common.console.quiet_tensorflow`) and TensorFlow's on AVX-512 CPUs.
- an AVX2-only CPU on a machine with AVX-512: ``python tools/avx2_only.py python benchmarks/cpu.py
  ...`` runs every process as it would run there. CPUID reports no AVX-512, so TensorFlow leaves
  oneDNN off by default, and oneDNN, XLA's code generator, OpenBLAS (the roofline) and NumPy choose
  their AVX2 kernels. Clock speed, caches and core count stay the machine's. Where that tool cannot
  run (no CPUID faulting), ``--onednn_isa AVX2`` caps only oneDNN's kernels (oneDNN's
  ``ONEDNN_MAX_CPU_ISA``); XLA then still compiles for AVX-512. TensorFlow's own (Eigen) kernels
  differ in neither case: the released ``tensorflow-cpu`` wheels compile them without AVX2, FMA or
  AVX-512 (TensorFlow says so when it loads, "To enable the following instructions: AVX2 AVX512F
  ... FMA, in other operations, rebuild TensorFlow").
- for our path, each policy of ``--xla`` (``TrainConfig.xla``; default ``auto``, the measured
  per-cell default of :data:`musiclib.models.settings.XLA_COMPILED_CELLS` for training steps and
  :data:`musiclib.models.settings.XLA_SCORED_CELLS` for validation checks; add ``on`` and ``off``
  to check that default).
- no Keras JAX backend: it trains without carrying the recurrent states from batch to batch, so
  musiclib does not train on it (``musiclib.models.settings.STATELESS_BATCH_BACKENDS``,
  ``benchmarks/backends.py``).
- one run alone (TensorFlow's thread pools sized to all cores), and two runs at once, each with
  its share of the cores (``musiclib.experiments.cluster.worker_thread_environment``), as the grid
  trains on a 2-core machine; for two at once the figure is the sum of both runs' tokens per second.

The roofline: the float32 matrix multiply of an LSTM step (50 x 128 by 128 x 512, the input and the
recurrent projection of one layer) timed with NumPy on one core, times the machine's cores, over the
flops a training token costs (forward and backward, three times the forward's
:math:`2 \\cdot 2 \\cdot 128 \\cdot 512` per layer, plus the output layer), gives the tokens per second
that the matrix multiplies alone would allow: the same bound for one run and for two at once, since
both may use every core. (NumPy's own two threads at this small shape gained nothing on the 2-core
EPYC, 87 against 89 GFLOP/s in one measurement, so a bound timed with them put runs above it.) It is
computed from the LSTM's arithmetic: for NAS and UGRNN the column means nothing. Run it on an
otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
UNITS, BATCH = 128, 50
ONEDNN = {"oneDNN off": "0", "oneDNN on": "1"}
XLA_POLICIES = ("auto", "off", "on")
ONEDNN_ISA_VARIABLE = "ONEDNN_MAX_CPU_ISA"


def cpu_model() -> str:
    """The CPU's model name and core count (``musiclib.book.machine``), and whether this process sees
    it as an AVX2-only CPU (``tools/avx2_only.py``)."""
    from musiclib.book.machine import cpu_model as model

    view = ", seen as an AVX2-only CPU (tools/avx2_only.py)" if "avx2_only" in os.environ.get("LD_PRELOAD", "") else ""
    return f"{model()}, {os.cpu_count()} cores{view}"


def matmul_gflops_one_core(seconds: float = 1.0) -> float:
    """GFLOP/s of NumPy's float32 matrix multiply at an LSTM step's shape, on one thread."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.standard_normal((BATCH, UNITS), dtype=np.float32)
    b = rng.standard_normal((UNITS, 4 * UNITS), dtype=np.float32)
    with threadpool_limits(limits=1):
        for _ in range(200):  # warm up
            a @ b
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            for _ in range(100):
                a @ b
            count += 100
        elapsed = time.perf_counter() - started
    return 2 * BATCH * UNITS * 4 * UNITS * count / elapsed / 1e9


def training_flops_per_token(vocab_size: int, layers: int = 2) -> float:
    """Floating-point operations of one training token: 3 x the forward pass's multiply-adds x 2.

    Per layer the forward pass multiplies the input and the previous state by 128 x 512 matrices
    (:math:`2 \\cdot 2 \\cdot 128 \\cdot 512` flops); the output layer adds :math:`2 \\cdot 128 \\cdot V`.
    The backward pass costs about twice the forward (gradients for inputs and weights).
    """
    forward = layers * 2 * 2 * UNITS * 4 * UNITS + 2 * UNITS * vocab_size
    return 3.0 * forward


WORKER = """
import json, os, sys, tempfile, time
sys.path.insert(0, os.path.join(sys.argv[1], "benchmarks"))
from musiclib.common.console import load_tensorflow_quietly
load_tensorflow_quietly()
from training import bare_lstm_tokens_per_second, essen_splits
from musiclib.common.console import onednn_enabled
from musiclib.data.sequences import prepare_variant
from musiclib.models.train import TrainConfig, paper_batches, train
from musiclib.models.training_loop import epoch_overhead
model, xla, songs, epochs = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
data = prepare_variant(essen_splits(songs), "control")
started, cpu_started = time.perf_counter(), os.times()
overhead = None
if model == "bare":
    speed = bare_lstm_tokens_per_second(data, epochs, sustained=True)
else:
    config = TrainConfig(model=model, num_layers=2, rnn_size=128, num_epochs=epochs, save_every=10**6, xla=xla)
    tokens = paper_batches(data.train, data.vocab, config.batch_size, config.seq_length).num_tokens
    with tempfile.TemporaryDirectory() as run_dir:
        run = train(config, data, run_dir, progress=False)
    later = run.history["epochs"][1:]
    speed = tokens * len(later) / sum(epoch["seconds"] + epoch["save_seconds"] for epoch in later)
    overhead = epoch_overhead(later)["total"]
cpu = sum(os.times()[:2]) - sum(cpu_started[:2])
busy = cpu / (time.perf_counter() - started)
print(json.dumps({"tokens_per_second": speed, "onednn": onednn_enabled(), "vocab": len(data.vocab), "cores_busy": busy,
                  "overhead": overhead}))
"""


def measure(model: str, xla: str, onednn: str, runs_at_once: int, songs: int, epochs: int,
            onednn_isa: str | None = None) -> dict:
    """Tokens/s of ``runs_at_once`` identical processes trained at the same time (summed), whether
    oneDNN was in effect in them, and the cores they kept busy while training (CPU seconds over
    wall seconds, summed). ``onednn_isa`` (e.g. ``"AVX2"``) caps the instructions of oneDNN's kernels."""
    from musiclib.experiments.cluster import worker_thread_environment

    environment = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": onednn, "KERAS_BACKEND": "tensorflow"}
    if onednn_isa:
        environment[ONEDNN_ISA_VARIABLE] = onednn_isa
    if runs_at_once > 1:
        environment.update(worker_thread_environment(runs_at_once))
    command = [sys.executable, "-c", WORKER, str(REPOSITORY), model, xla, str(songs), str(epochs)]
    processes = [
        subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for _ in range(runs_at_once)
    ]
    results = []
    for process in processes:
        output, _ = process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"{model} ({onednn=}, {xla=}) failed with exit status {process.returncode}")
        results.append(json.loads(output.strip().splitlines()[-1]))
    return {
        "tokens_per_second": sum(result["tokens_per_second"] for result in results),
        "onednn": results[0]["onednn"],
        "vocab": results[0]["vocab"],
        "cores_busy": sum(result["cores_busy"] for result in results),
        "overhead": results[0]["overhead"],
    }


def conditions(cells: list[str], onednn: list[str], xla_policies: list[str]) -> list[tuple[str, str, str]]:
    """(model, xla, oneDNN label) of every measurement: the bare LSTM (oneDNN off and on, the ratios'
    baselines; never XLA), then our cells with oneDNN ``onednn`` ("off", "on") under each of ``xla_policies``."""
    rows = [("bare", "off", label) for label in ONEDNN]
    rows += [(cell, xla, f"oneDNN {state}") for cell in cells for state in onednn for xla in xla_policies]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cells", nargs="+", default=["lstm", "nas", "ugrnn"])
    parser.add_argument("--songs", type=int, default=1000, help="Essen control training melodies")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per measurement (the first is not counted)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the best of each is kept")
    parser.add_argument("--at_once", nargs="+", type=int, default=[1, 2], choices=[1, 2], help="runs trained at once")
    parser.add_argument("--onednn", nargs="+", default=["off", "on"], choices=["off", "on"],
                        help="oneDNN settings of our cells (the bare LSTM is always measured with both)")
    parser.add_argument("--xla", nargs="+", default=["auto"], choices=XLA_POLICIES,
                        help="XLA policies of our cells (TrainConfig.xla; auto: the measured default per cell)")
    parser.add_argument("--onednn_isa", choices=["AVX2", "AVX2_VNNI", "AVX512_CORE"],
                        help="the newest instructions oneDNN may use (AVX2: measure an AVX2-only CPU on an AVX-512 one)")
    args = parser.parse_args()
    if ONEDNN_ISA_VARIABLE in os.environ:
        raise SystemExit(f"unset {ONEDNN_ISA_VARIABLE} first: pass --onednn_isa instead")
    sys.path.insert(0, str(REPOSITORY))
    isa = f"; oneDNN capped at {args.onednn_isa}" if args.onednn_isa else ""
    print(f"CPU: {cpu_model()} ({platform.machine()}); 2 x 128 units, {args.songs} Essen control melodies{isa}")
    one_core = matmul_gflops_one_core()
    print(f"matrix multiply at the step's shape: {one_core:.1f} GFLOP/s on one core")
    best: dict[tuple, dict] = {}
    for _ in range(args.rounds):
        for runs_at_once in args.at_once:
            for model, xla, label in conditions(args.cells, args.onednn, args.xla):
                key = (runs_at_once, model, xla, label)
                result = measure(model, xla, ONEDNN[label], runs_at_once, args.songs, args.epochs, args.onednn_isa)
                if key not in best or result["tokens_per_second"] > best[key]["tokens_per_second"]:
                    best[key] = result
                print(f"  {runs_at_once} at once, {model}, xla {xla}, {label}: {result['tokens_per_second']:,.0f} tokens/s",
                      file=sys.stderr, flush=True)
    vocab = next(iter(best.values()))["vocab"]
    gflops = os.cpu_count() * one_core
    roofline = gflops * 1e9 / training_flops_per_token(vocab)
    for runs_at_once in args.at_once:
        defaults = best[(runs_at_once, "bare", "off", "oneDNN off")]["tokens_per_second"]
        onednn_bare = best[(runs_at_once, "bare", "off", "oneDNN on")]["tokens_per_second"]
        print(f"\n{runs_at_once} run{'s' if runs_at_once > 1 else ''} at once; roofline {roofline:,.0f} tokens/s "
              f"({gflops:.0f} GFLOP/s / {training_flops_per_token(vocab) / 1e6:.2f} MFLOP per token)")
        print(f"{'model':<8}{'xla':<5}{'oneDNN':<12}{'in effect':<11}{'tokens/s':>10}{'/ bare, TF off':>16}{'/ bare, on':>12}{'roofline':>10}{'cores busy':>12}{'overhead':>10}")
        for (count, model, xla, label), result in best.items():
            if count != runs_at_once:
                continue
            speed = result["tokens_per_second"]
            effect = {True: "on", False: "off", None: "?"}[result["onednn"]]
            overhead = "" if result["overhead"] is None else f"{result['overhead']:.0%}"
            print(f"{model:<8}{xla:<5}{label:<12}{effect:<11}{speed:>10,.0f}{speed / defaults:>16.2f}"
                  f"{speed / onednn_bare:>12.2f}{speed / roofline:>10.0%}{result['cores_busy']:>12.2f}{overhead:>10}")


if __name__ == "__main__":
    main()
