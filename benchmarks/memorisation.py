"""Speed of the memorisation check at the paper's scale: 900 generated songs of 34 notes against
a training set the size of Essen's (6,800 songs, about 330,000 notes; random-walk melodies stand in
for the real ones, whose parse takes far longer than the check).

Run: ``python benchmarks/memorisation.py``.
"""

import time

import numpy as np

from musiclib.measures.memorisation import MODES, TrainingIndex


def random_walks(rng, n_songs, mean_notes):
    """Melodies of steps -4..4 semitones from a random start, kept inside MIDI 40..90."""
    songs = []
    for index in range(n_songs):
        steps = rng.integers(-4, 5, size=max(2, int(rng.poisson(mean_notes))))
        songs.append((f"song{index}", list(40 + np.abs((rng.integers(55, 75) + np.cumsum(steps) - 40) % 100 - 50))))
    return songs


def main():
    rng = np.random.default_rng(0)
    training = random_walks(rng, 6800, 48)
    generated = [song for _, song in random_walks(rng, 900, 34)]
    started = time.perf_counter()
    index = TrainingIndex(training)
    built = time.perf_counter() - started
    print(f"index of {len(index)} songs, {index.n_notes} notes, both modes: {built:.1f} s")
    for mode in MODES:
        started = time.perf_counter()
        copies = index.longest_copies(generated, mode)
        print(f"{len(generated)} songs checked ({mode}): {time.perf_counter() - started:.2f} s; "
              f"median longest stretch {np.median([copy.notes for copy in copies]):.0f} notes")


if __name__ == "__main__":
    main()
