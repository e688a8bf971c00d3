"""Speed of musiclib.measures.metrics.evaluate against the plain-loop reference, on the same 100,000 melodies.

    .venv/bin/python benchmarks/metrics.py [--data auto|essen|synthetic] [--melodies 100000]

Melodies: the Essen folk songs (music21's corpus) and their DB12 transpositions (12 versions of each
song, as the paper's DB12 dataset) when the parse cache exists (``--data auto``) or when asked
(``--data essen``, which parses Essen once if needed); otherwise synthetic melodies of Essen-like
length and motion. For each configuration (the paper's metrics, the pitch-class variants and paper
4's rhythm variants) it times both implementations, checks every value agrees to 1e-9 and prints
the speed-up. Exit status 1 if any value disagrees.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the reference lives with the tests

import reference_metrics as reference

from musiclib.data import corpus, sequences
from musiclib.measures import metrics

TOLERANCE = 1e-9
TARGET_SPEEDUP = 20
NUMPY_REPEATS = 3  # the vectorised version is timed as the best of 3 runs, the loops (minutes) once


def essen_with_db12(count: int) -> tuple[list[sequences.Melody], str]:
    """The first ``count`` melodies of Essen expanded by DB12 (each song then its 12 transpositions)."""
    loaded = corpus.load_corpus("essen")
    melodies = []
    for melody in loaded.melodies:
        for version, pitches in enumerate(sequences.to_db12(melody.pitches)):
            melodies.append(sequences.Melody(f"{melody.id}~db12:{version}", tuple(pitches), melody.durations_16th))
    described = f"Essen ({len(loaded.melodies)} songs of >= 12 notes) and its DB12 variant ({len(melodies)} melodies)"
    if len(melodies) < count:
        return melodies, described + f"; fewer than the {count} asked"
    return melodies[:count], described + f", first {count}"


def synthetic(count: int, seed: int = 0) -> tuple[list[sequences.Melody], str]:
    """Random-walk melodies of folk-song length: 12..~200 notes, mostly steps and repeats."""
    rng = np.random.default_rng(seed)
    lengths = 12 + rng.geometric(1 / 40, size=count)
    steps = rng.choice([-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 7], p=[0.03, 0.05, 0.1, 0.17, 0.1, 0.12, 0.1, 0.17, 0.1, 0.03, 0.02, 0.01], size=lengths.sum())
    durations = rng.choice([1, 2, 3, 4, 6, 8, 12, 16], p=[0.05, 0.3, 0.05, 0.35, 0.1, 0.1, 0.03, 0.02], size=lengths.sum())
    melodies, first = [], 0
    for index, length in enumerate(lengths):
        walk = 60 + np.cumsum(steps[first : first + length]) - steps[first]
        pitches = np.clip(walk, 36, 96)
        melodies.append(sequences.Melody(f"synthetic#{index}", tuple(pitches.tolist()), tuple(durations[first : first + length].tolist())))
        first += length
    return melodies, f"synthetic random-walk melodies (seed {seed}, Essen-like lengths)"


def _loop_table(melodies, configuration: str) -> np.ndarray:
    if configuration == "rhythm":
        rows = [
            (reference.cmm(m.pitches), reference.rhythmic_lm(m.pitches, m.durations_16th), reference.rhythmic_centr(m.pitches, m.durations_16th))
            for m in melodies
        ]
        return np.array(rows)
    return np.array(reference.evaluate([m.pitches for m in melodies], 12, configuration == "pitch_class"))


def _timed(function):
    """Result and CPU seconds of this process (both versions run on one core; unlike wall time,
    CPU time does not count the moments other programs held the core)."""
    started = time.process_time()
    result = function()
    return result, time.process_time() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", choices=("auto", "essen", "synthetic"), default="auto")
    parser.add_argument("--melodies", type=int, default=100_000, help="how many melodies to score")
    args = parser.parse_args(argv)

    cache_exists = any((corpus.DEFAULT_CACHE_DIR / "parsed").glob("*.json"))
    use_essen = args.data == "essen" or (args.data == "auto" and cache_exists)
    melodies, described = essen_with_db12(args.melodies) if use_essen else synthetic(args.melodies)
    lengths = np.array([len(m) for m in melodies])
    print(f"melodies: {described}")
    print(f"  {len(melodies)} melodies, {lengths.sum()} notes, {lengths.mean():.1f} notes on average (min {lengths.min()}, max {lengths.max()})")
    print(f"CPU seconds (process time): loops one run, numpy best of {NUMPY_REPEATS}; same melodies, same values")
    print(f"{'configuration':<14}{'loops (s)':>11}{'numpy (s)':>11}{'speed-up':>10}{'max |diff|':>12}")
    disagree = False
    for configuration in ("paper", "pitch_class", "rhythm"):
        expected, loop_seconds = _timed(lambda configuration=configuration: _loop_table(melodies, configuration))
        runs = [
            _timed(lambda configuration=configuration: metrics.evaluate(
                melodies, pitch_class=configuration == "pitch_class", rhythm=configuration == "rhythm"))
            for _ in range(NUMPY_REPEATS)
        ]
        table, numpy_seconds = runs[0][0], min(seconds for _, seconds in runs)
        difference = float(np.abs(table[list(metrics.METRICS)].to_numpy() - expected).max())
        disagree |= difference > TOLERANCE
        print(f"{configuration:<14}{loop_seconds:>11.2f}{numpy_seconds:>11.2f}{loop_seconds / numpy_seconds:>9.1f}x{difference:>12.1e}")
    print(f"target: >= {TARGET_SPEEDUP}x; values must agree to {TOLERANCE:g}: {'FAILED' if disagree else 'ok'}")
    return 1 if disagree else 0


if __name__ == "__main__":
    raise SystemExit(main())
