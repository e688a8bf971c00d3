"""Carry the study reproduction between working sessions whose machines keep no files.

The ``study`` profile trains for about 10 to 12 hours on 2 cores; the sessions that run it last 3
hours each, on a fresh machine, and only what is committed survives. ``save`` copies what a later
``make reproduce PROFILE=study`` needs from the runs folder into ``.study/carried`` (committed), and
``restore`` puts it back, so that the reproduction reuses the finished runs and its attempt log
keeps counting the time spent before::

    python .study/carry.py restore /root/musiclib-study     # at the start of a session, then:
    make env && nohup .venv/bin/python -m musiclib reproduce --profile study \
        --runs_dir /root/musiclib-study >> /root/musiclib-study/reproduce.log 2>&1 &
    python .study/carry.py save /root/musiclib-study        # every so often and before the end
                                                            # (then with --with-resume);
    git add .study && git commit -m "Study carry: ..."      # then commit

(Run the reproduction from a separate worktree, ``git worktree add --detach /work/study-run``, when
the code will change while it runs; it then needs ``PYTHONPATH=/work/study-run``.) Once every
notebook is ok: ``python -m musiclib publish`` in the folder that ran it, copy its ``book/edition/``
into main and commit it, delete
``.study`` and ``tests/test_study_carry.py``.

What is carried, to keep the repository small:

- every finished run (``complete.json``) with its settings, vocabulary, data fingerprint, history,
  completion record and attempts: enough for chapter 2's tables, curves and both selection rules;
- the weights (``best.keras``; for LSTMs, whose embeddings chapter 4 studies, also the step-0
  checkpoint and the projector files) only of the run with the
  lowest best validation loss among the finished runs of its dataset and cell (``<cell>-<layers>``
  folders), the one chapters 2 to 4 may select; runs in other folders keep their weights;
- the reproduction's attempt logs (``reproduce-*.attempts*.json``).

Unfinished runs restart in the next session, unless ``save --with-resume`` carries their resume
points (``resume.npz``, about 9 to 11 MB each), worth it at the end of a session for runs well under
way; a carried resume point leaves the carried tree when its run finishes. Nor are chapter 5's runs (``cross_entropy/``): it reads every one of their checkpoints,
so they train again when chapter 5 is executed.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

CARRIED = Path(__file__).resolve().parent / "carried"
RECORD_FILES = ("config.json", "vocab.json", "data.json", "history.json", "complete.json", "attempts.jsonl")
WEIGHT_FILES = ("best.keras",)
RESUME_FILE = "resume.npz"
NOT_CARRIED = "cross_entropy"  # chapter 5 reads every checkpoint of its runs: they retrain with it
EMBEDDING_CELL = "lstm"  # musiclib.embedding_study.embedding_models
GRID_RUN = re.compile(r"^(?P<cell>[a-z]+)-(?P<layers>\d+)$")


def finished_runs(runs_dir: Path) -> list[Path]:
    """Every run folder under ``runs_dir`` with a ``complete.json``, but chapter 5's."""
    runs = (path.parent for path in runs_dir.rglob("complete.json"))
    return sorted(run for run in runs if NOT_CARRIED not in run.relative_to(runs_dir).parts)


def weight_carriers(runs: list[Path]) -> set[Path]:
    """The runs whose weights are carried: per (dataset folder, cell), the lowest best validation
    loss; runs outside ``<cell>-<layers>`` folders all."""
    best: dict[tuple[Path, str], tuple[float, Path]] = {}
    carriers = set()
    for run in runs:
        match = GRID_RUN.match(run.name)
        if match is None:
            carriers.add(run)
            continue
        loss = json.loads((run / "complete.json").read_text())["best_val_loss"]
        key = (run.parent, match["cell"])
        if key not in best or loss < best[key][0]:
            best[key] = (loss, run)
    return carriers | {run for _, run in best.values()}


def weight_paths(run: Path) -> list[Path]:
    """The files of ``run`` that hold weights (carried for selectable runs): its best weights, and for
    the cell whose embeddings chapter 4 studies also its untrained weights and projector files."""
    paths = [run / name for name in WEIGHT_FILES if (run / name).exists()]
    match = GRID_RUN.match(run.name)
    if match is None or match["cell"] == EMBEDDING_CELL:
        paths += sorted((run / "checkpoints").glob("step-0000000_*.weights.h5"))
        paths += [path for path in sorted((run / "tensorboard").rglob("*")) if path.is_file() and "tfevents" not in path.name]
    return paths


def copy(source: Path, target: Path) -> None:
    """Copy one file, through a temporary name so that a killed copy leaves no partial file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copy2(source, partial)
    partial.replace(target)


def unfinished_runs(runs_dir: Path) -> list[Path]:
    """Every run folder under ``runs_dir`` with a resume point and no ``complete.json``, but chapter 5's."""
    runs = (path.parent for path in runs_dir.rglob(RESUME_FILE))
    return sorted(run for run in runs if not (run / "complete.json").exists() and NOT_CARRIED not in run.relative_to(runs_dir).parts)


def resume_paths(run: Path) -> list[Path]:
    """What an unfinished run needs to resume elsewhere: its settings, resume point and step-0 weights."""
    paths = [run / name for name in (*RECORD_FILES, RESUME_FILE) if (run / name).exists()]
    return paths + sorted((run / "checkpoints").glob("step-0000000_*.weights.h5"))


def save(runs_dir: Path, with_resume: bool = False) -> None:
    """Copy the finished runs (slimmed as above) and the attempt logs into ``.study/carried``; with
    ``with_resume`` also the resume points of the unfinished runs."""
    runs = finished_runs(runs_dir)
    carriers = weight_carriers(runs)
    for run in runs:
        relative = run.relative_to(runs_dir)
        files = [run / name for name in RECORD_FILES if (run / name).exists()]
        if run in carriers:
            files += weight_paths(run)
        else:  # a run that lost its lead: its weights leave the carried tree
            shutil.rmtree(CARRIED / relative / "checkpoints", ignore_errors=True)
            shutil.rmtree(CARRIED / relative / "tensorboard", ignore_errors=True)
            for name in WEIGHT_FILES:
                (CARRIED / relative / name).unlink(missing_ok=True)
        (CARRIED / relative / RESUME_FILE).unlink(missing_ok=True)  # carried while it was unfinished
        for path in files:
            copy(path, CARRIED / path.relative_to(runs_dir))
    resumable = unfinished_runs(runs_dir) if with_resume else []
    for path in (path for run in resumable for path in resume_paths(run)):
        copy(path, CARRIED / path.relative_to(runs_dir))
    for log in sorted(runs_dir.glob("reproduce-*.attempts*.json")):
        copy(log, CARRIED / log.name)
    print(f"carried {len(runs)} finished runs ({len(carriers)} with weights) and {len(resumable)} resume points from {runs_dir} into {CARRIED}")


def restore(runs_dir: Path) -> None:
    """Copy ``.study/carried`` into ``runs_dir``; files already there are kept."""
    restored = 0
    for path in sorted(CARRIED.rglob("*")):
        target = runs_dir / path.relative_to(CARRIED)
        if path.is_file() and not target.exists():
            copy(path, target)
            restored += 1
    print(f"restored {restored} files from {CARRIED} into {runs_dir}")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if arguments[:1] == ["save"] and len(arguments) in (2, 3) and arguments[2:] in ([], ["--with-resume"]):
        save(Path(arguments[1]), with_resume=len(arguments) == 3)
    elif arguments[:1] == ["restore"] and len(arguments) == 2:
        restore(Path(arguments[1]))
    else:
        sys.exit(f"usage: python {sys.argv[0]} save RUNS_DIR [--with-resume] | restore RUNS_DIR")
