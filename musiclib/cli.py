"""Command line: ``python -m musiclib <command> ...``.

Each command is registered by an ``_add_<command>`` function that adds its sub-parser and sets
``handler``; handlers import the heavy modules (Keras) lazily so ``--help`` is instant.

One vocabulary: flags are spelled with underscores, as the original ``train.py`` and ``sample.py``
spelled theirs; ``--data_dir`` is the melodies in every command; ``--seed`` is seed notes (as in
sample.py) and ``--random_seed`` a random generator's seed. A user error (a bad flag or setting, a
missing file, a profile that does not parse: a :class:`musiclib.common.checks.UsageError`) is one
line on standard error and exit status 2; any other exception is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from musiclib.common.checks import MissingFileError, UsageError


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors (unknown flags, bad values) are :class:`UsageError`."""

    def error(self, message: str):
        raise UsageError(f"{message} (see {self.prog} --help)")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m musiclib",
        description="Reproduce 'Sequence Generation using Deep Recurrent Networks and Embeddings: "
        "A study case in music' (arXiv 2012.01231).",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_command in _COMMANDS:
        add_command(commands)
    return parser


_COMMANDS: list = []


_TENSORFLOW_COMMANDS = {"train", "generate", "grid"}
"""The commands that build Keras models: TensorFlow is loaded for them without its start-up notices."""


def main(argv: list[str] | None = None) -> int:
    """Run one command of the command line.

    TensorFlow, absl and Python warnings are silenced before any command imports TensorFlow,
    and musiclib's progress lines (one per finished training run) go to standard error
    (:mod:`musiclib.common.console`).

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``python -m musiclib`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 1 when a command reports failures (failed runs or
        notebooks), 2 for a user error (:class:`UsageError`, or an edition that cannot be
        published: one line on standard error).

    Raises
    ------
    Exception
        Any other error, with its traceback: it is a bug, not a mistake of the user.
    """
    from musiclib.book.edition import EditionError
    from musiclib.common.console import ONEDNN_VARIABLE, load_tensorflow_quietly, quiet_tensorflow, show_progress

    quiet_tensorflow()
    show_progress()
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        if args.command in _TENSORFLOW_COMMANDS:
            if getattr(args, "onednn", None) is not None:  # asked for before TensorFlow loads, or never
                os.environ[ONEDNN_VARIABLE] = "1" if args.onednn else "0"
            load_tensorflow_quietly()
        return args.handler(args) or 0
    except (UsageError, EditionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


_DATA_DIR_HELP = (
    "the melodies: a bundled corpus (essen, oneill, ryans, aird), a folder of MIDI/MusicXML/ABC/Humdrum files "
    "or a .p pickle"
)


def _add_data_dir(parser, *, default: str | None, also: str = "") -> None:
    """The one data-source flag of every command, ``--data_dir`` (the original train.py's name)."""
    default_text = f"default {default}" if default else "default: the profile's [data] source"
    parser.add_argument("--data_dir", default=default, help=f"{_DATA_DIR_HELP}{also} ({default_text})")


def _add_evaluate(commands) -> None:
    parser = commands.add_parser(
        "evaluate",
        help="tonality metrics (CMM, LM, CENTR) of a dataset: the paper's TABLE I",
        description="Score every melody of a dataset with conjunct melodic motion (CMM), limited "
        "macroharmony (LM) and centricity (CENTR), and print mean ± std next to the paper's table.",
    )
    _add_data_dir(parser, default="essen")
    parser.add_argument("--max_songs", type=int, help="a fixed subset of this many songs (default: all)")
    parser.add_argument("--min_notes", type=int, default=12, help="skip songs with fewer notes (paper: 12)")
    parser.add_argument("--pitch_class", action="store_true", help="LM and CENTR on pitch classes (Tymoczko's reading)")
    parser.add_argument("--rhythm", action="store_true", help="paper 4's variants: sixteenth-note grid, 32-sixteenth windows, hop 4")
    parser.add_argument("--cache_dir", help="parse cache (default: $MUSICLIB_CACHE_DIR or ~/.cache/musiclib)")
    parser.set_defaults(handler=_evaluate)


def _evaluate(args) -> int:
    from musiclib.measures.baseline import baseline_text, dataset_baseline

    table, report = dataset_baseline(
        args.data_dir, min_notes=args.min_notes, max_songs=args.max_songs, cache_dir=args.cache_dir,
        pitch_class=args.pitch_class, rhythm=args.rhythm, progress=True,
    )
    print(report)
    print(baseline_text(table, pitch_class=args.pitch_class, rhythm=args.rhythm))
    return 0


_COMMANDS.append(_add_evaluate)


def _add_train(commands) -> None:
    from musiclib.models.settings import TrainConfig

    parser = commands.add_parser(
        "train",
        help="train a next-note model with the paper's recipe (resumable run directory)",
        description="Train embedding + stacked RNN on a dataset variant with the paper's recipe (Adam, "
        "lr 0.002 x 0.97 per epoch, clip 5, batches of 50 x 50). Flags are the original train.py's, "
        "one per setting of musiclib.models.settings.TrainConfig. "
        "Running the same command again resumes an interrupted run, or reuses a finished one.",
    )
    for setting in dataclasses.fields(TrainConfig):
        _add_setting(parser, setting)
    _add_data_dir(parser, default="essen", also=", or a folder written by `python -m musiclib prepare`")
    parser.add_argument("--max_songs", type=int, help="a fixed subset of this many songs of a corpus (default: all)")
    parser.add_argument("--run_dir", help="run directory (default runs/train/VARIANT/MODEL-NUM_LAYERS)")
    parser.add_argument("--force", action="store_true", help="retrain even if --run_dir holds a finished run")
    parser.set_defaults(handler=_train)


def _add_setting(parser, setting: dataclasses.Field) -> None:
    """One flag for a TrainConfig field: its help the field's documented meaning, its default the field's."""
    from musiclib.models.settings import setting_default, setting_flag, setting_help

    default = setting_default(setting.name)
    if isinstance(default, dict):  # one value per variant: the flag takes the run's
        kind = type(next(iter(default.values())))
        default_text = " / ".join(f"{value} {variant}" for variant, value in default.items())
    elif isinstance(default, bool):
        kind, default_text = _on_off, "on" if default else "off"
    elif isinstance(default, tuple):
        kind, default_text = int, " ".join(map(str, default)) or "none"
    else:
        kind, default_text = type(default), str(default)
    flag, choices = setting_flag(setting.name), setting.metadata.get("choices")
    metavar = "{on,off}" if kind is _on_off else "STEP" if isinstance(default, tuple) else flag[2:].upper()
    parser.add_argument(
        flag, dest=setting.name, type=kind, choices=choices, metavar=None if choices else metavar,
        nargs="+" if isinstance(default, tuple) else None, help=f"{setting_help(setting.name)} (default {default_text})",
    )


def _on_off(word: str) -> bool:
    """``on`` / ``off`` (or true / false) as a bool, for the on-off settings."""
    values = {"on": True, "true": True, "off": False, "false": False}
    if word.lower() not in values:
        raise argparse.ArgumentTypeError(f"{word!r} is not on or off")
    return values[word.lower()]


def _train(args) -> int:
    from musiclib.data.corpus import load_corpus
    from musiclib.data.prepared import REPORT_FILE, load_prepared
    from musiclib.data.sequences import prepare_variant, split_melodies
    from musiclib.models import train

    given = {setting.name: getattr(args, setting.name) for setting in dataclasses.fields(train.TrainConfig)}
    config = train.TrainConfig(**{name: value for name, value in given.items() if value is not None})
    config = config.for_variant(config.variant)
    if (Path(args.data_dir) / REPORT_FILE).is_file():
        variant_data = load_prepared(args.data_dir, config.variant)
    else:
        corpus = load_corpus(args.data_dir, max_songs=args.max_songs)
        print(corpus.report)
        variant_data = prepare_variant(split_melodies(corpus.melodies), config.variant)
    run_dir = Path(args.run_dir or Path("runs", "train", config.variant, f"{config.model}-{config.num_layers}"))
    if (run_dir / train.COMPLETE_FILE).exists() and not args.force:
        print(f"{run_dir} holds a finished run: loading it (pass --force to retrain)")
    elif (run_dir / train.RESUME_FILE).exists() and not args.force:
        print(f"{run_dir} holds an interrupted run: resuming it")
    else:
        print(f"training into {run_dir}")
    run = train.train(config, variant_data, run_dir, force=args.force)
    last, summary = run.history["epochs"][-1], run.summary
    print(
        f"done: {last['epoch']} epochs, {run.history['steps'][-1]['step']} steps; final training loss "
        f"{last['train_loss']:.4f}, validation loss {last['val_loss']:.4f} (nats per token)\n"
        + (
            f"best validation loss {summary['best_val_loss']:.4f} in epoch {summary['best_epoch']}"
            f"{' (stopped early)' if summary['stopped_early'] else ''}; best weights: {run_dir / train.BEST_MODEL_FILE}\n"
            if "best_epoch" in summary else ""  # runs finished before best weights were kept
        )
        + f"checkpoints: {run_dir / train.CHECKPOINT_DIR}; curves and embedding: "
        f"tensorboard --logdir {run_dir / train.TENSORBOARD_DIR}"
    )
    return 0


_COMMANDS.append(_add_train)


def _add_prepare(commands) -> None:
    parser = commands.add_parser(
        "prepare",
        help="parse a corpus into the control / interval / DB12 datasets (train / validation / test)",
        description="Load melodies (pitch + duration, >= --min_notes notes), split them by a stable hash of "
        "their ids and write each variant's token sequences and vocabulary to --out, with report.json. "
        "Parsing runs in parallel and is cached, so the second run takes seconds.",
    )
    _add_data_dir(parser, default="essen")
    parser.add_argument("--out", help="output folder (default prepared/NAME, NAME the last part of --data_dir)")
    parser.add_argument("--max_songs", type=int, help="a fixed subset of this many songs (default: all)")
    parser.add_argument("--min_notes", type=int, default=12, help="drop songs with fewer notes (paper: 12)")
    parser.add_argument("--workers", type=int, help="parser processes (default: the CPU count)")
    parser.add_argument("--cache_dir", help="parse cache (default: $MUSICLIB_CACHE_DIR or ~/.cache/musiclib)")
    parser.add_argument("--no_progress", dest="progress", action="store_false", help="no progress bar")
    parser.set_defaults(handler=_prepare)


def _prepare(args) -> int:
    from musiclib.data import corpus

    out = Path(args.out or Path("prepared", Path(args.data_dir).name))
    report = corpus.prepare(
        args.data_dir, out, min_notes=args.min_notes, max_songs=args.max_songs, cache_dir=args.cache_dir,
        workers=args.workers, progress=args.progress,
    )
    print(corpus.format_prepare_report(report, report_path=out / "report.json"))
    print(f"written to {out}")
    return 0


_COMMANDS.append(_add_prepare)


def _add_profile_arguments(parser) -> None:
    """The options shared by the commands that run a profile (reproduce, grid)."""
    parser.add_argument("--profile", default="quick", help="smoke, quick (default), study or paper, or a profile .toml file")
    _add_data_dir(parser, default=None)
    parser.add_argument("--runs_dir", default="runs", help="where training runs are kept and reused (default runs)")
    _add_cluster_arguments(parser)


_CLUSTER_FLAGS = (
    # (flag, type, help): musiclib.experiments.cluster.ClusterSettings fields; absent -> the profile's [cluster] setting.
    ("--cluster", str, "train the runs on Dask: local (worker processes here) or slurm (batch jobs); default: "
     "the profile's [cluster] kind, else local when the profile's grid.workers > 1"),
    ("--workers", int, "worker processes of the local cluster (default: the profile's grid.workers)"),
    ("--scheduler", str, "address of an existing Dask scheduler, e.g. tcp://host:8786 (instead of --cluster)"),
    ("--queue", str, "Slurm partition (default: the cluster's default)"),
    ("--cores", int, "CPU cores per Slurm batch job (default 1); each job trains one run at a time"),
    ("--memory", str, "memory per Slurm batch job (default 4GB)"),
    ("--walltime", str, "time limit per Slurm batch job, HH:MM:SS (default 24:00:00)"),
    ("--jobs", int, "a fixed number of Slurm batch jobs (a cancelled one is replaced)"),
    ("--minimum_jobs", int, "adaptive scaling: at least this many Slurm batch jobs (default 1)"),
    ("--maximum_jobs", int, "adaptive scaling: at most this many Slurm batch jobs (default: one per run)"),
    ("--retries", int, "reruns of a run whose task raised before it is reported as failed (default 2)"),
    ("--interface", str, "network interface of the Dask scheduler and workers (lo on one machine, ib0 ...)"),
)


def _add_cluster_arguments(parser) -> None:
    """The Dask cluster options of the commands that train a grid (musiclib.experiments.cluster.ClusterSettings)."""
    group = parser.add_argument_group("cluster", "where the grid's runs train (runs_dir must be shared by all workers)")
    for flag, kind, text in _CLUSTER_FLAGS:
        group.add_argument(flag, type=kind, help=text, **({"choices": ("local", "slurm")} if flag == "--cluster" else {}))
    group.add_argument(
        "--job_extra", action="append", metavar="OPTION",
        help="an extra #SBATCH option for every batch job, e.g. --job_extra=--gres=gpu:1 (repeatable; write the = before an option that starts with -)",
    )  # fmt: skip


def _cluster_overrides(args) -> dict:
    """The cluster settings given on the command line (ClusterSettings field -> value)."""
    names = [flag[2:] for flag, _, _ in _CLUSTER_FLAGS] + ["job_extra"]
    given = {("kind" if name == "cluster" else name): getattr(args, name) for name in names}
    return {name: value for name, value in given.items() if value is not None}


def _add_reproduce(commands) -> None:
    parser = commands.add_parser(
        "reproduce",
        help="execute every notebook with a profile (papermill) and build the book (Jupyter Book)",
        description="Execute notebooks/NN_*.ipynb with papermill into book/executed/, record the environment, "
        "per-notebook wall times and the profile's departures from the paper (the book's reproducibility page) "
        "and build the HTML book into _build/html (as the `book` command). Finished training runs in --runs_dir are reused, so running again continues where "
        "an interrupted run stopped. Exits 1 when a notebook or the build fails (the others still run).",
    )
    _add_profile_arguments(parser)
    parser.add_argument(
        "--random_seed", type=int, default=0,
        help="seed of the notebooks' random generators (bootstrap, shuffles, sampled songs; default 0)",
    )
    parser.add_argument("--only", nargs="+", metavar="NOTEBOOK", help="execute only these notebooks, e.g. 01_data")
    parser.add_argument("--no_build", dest="build", action="store_false", help="execute the notebooks, skip the book")
    parser.set_defaults(handler=_reproduce)


def _reproduce(args) -> int:
    import json
    import os

    from musiclib.book import reproduce
    from musiclib.experiments import cluster

    overrides = _cluster_overrides(args)
    if overrides:  # read by run_grid in the notebooks' kernels (they inherit this environment)
        cluster.ClusterSettings().overridden(**overrides)  # refuse bad settings before any notebook runs
        os.environ[cluster.ENVIRONMENT_VARIABLE] = json.dumps(overrides)
    outcome = reproduce.reproduce(
        args.profile, runs_dir=args.runs_dir, data_source=args.data_dir, seed=args.random_seed, only=args.only,
        build=args.build,
    )
    for result in outcome.notebooks:
        if result.status != "ok":
            partial = reproduce.failed_copy_path(result.output)
            where = f" (partly executed copy: {partial})" if partial.exists() else ""
            print(f"error: notebook {result.name} failed: {result.error}{where}", file=sys.stderr)
    if outcome.build_error:
        print(f"error: {outcome.build_error}", file=sys.stderr)
    if outcome.book_index:
        print(f"book: {outcome.book_index}")
    print(f"run record: {outcome.record_path}")
    return 0 if outcome.ok else 1


_COMMANDS.append(_add_reproduce)


def _add_book(commands) -> None:
    parser = commands.add_parser(
        "book",
        help="build the HTML book from the last reproduction, else the published edition (no training)",
        description="Copy the executed notebooks the book shows into BOOK_DIR/pages/ (those of the last "
        "`reproduce` in BOOK_DIR/executed/, else the published edition in BOOK_DIR/edition/), each page "
        "headed by the profile, date and machine that produced it (with an edition's songs.zip, linked for "
        "download), and build the HTML book into _build/html beside BOOK_DIR. Trains nothing and executes no "
        "notebook. Exits 2 when there is neither a reproduction nor an edition, 1 when the build fails.",
    )
    parser.add_argument("--book_dir", default="book", help="the book's folder (default book)")
    parser.set_defaults(handler=_book)


def _book(args) -> int:
    from musiclib.book import reproduce

    try:
        source, index, warnings = reproduce.render_book(args.book_dir)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print("\n".join([*warnings, f"pages from: {source}", f"book: {index}"]))
    return 0


_COMMANDS.append(_add_book)


def _add_publish(commands) -> None:
    parser = commands.add_parser(
        "publish",
        help="make the last finished reproduction the published edition (book/edition/, to commit)",
        description="Copy the executed notebooks, run record and departures of the last reproduction "
        "(BOOK_DIR/executed/) into the published edition (BOOK_DIR/edition/), replacing it, with the selected "
        "models of its grid (BOOK_DIR/edition/models/) and the songs chapter 3 generated from them (MIDI files in "
        "BOOK_DIR/edition/songs/ and songs.zip). Refuses a run in which a notebook failed or is missing, a run of "
        "another profile than --profile, a grid with unfinished runs and an edition over 30 MB. Commit "
        "BOOK_DIR/edition/ afterwards.",
    )
    parser.add_argument("--book_dir", default="book", help="the book's folder (default book)")
    parser.add_argument("--profile", default="study", help="the profile the reproduction must have used "
                        "(default study, the edition's); 'any' accepts every profile")
    parser.add_argument("--runs_dir", help="the reproduction's runs folder (default: the one its notebooks were "
                        "executed with)")
    parser.set_defaults(handler=_publish)


def _publish(args) -> int:
    from musiclib.book import edition
    from musiclib.chapters.generation.analysis import generate_for_selected

    folder = edition.publish_edition(
        args.book_dir, profile=None if args.profile == "any" else args.profile, runs_dir=args.runs_dir,
        generate_songs=generate_for_selected,
    )
    profile = edition.read_run_record(folder)["environment"].get("profile")
    sizes = ", ".join(f"{name} {edition.folder_megabytes(folder / name):.1f} MB"
                      for name in (edition.MODELS_FOLDER, edition.SONGS_FOLDER))
    print(f"published the {profile} reproduction as {folder} ({edition.folder_megabytes(folder):.1f} MB: {sizes}); "
          f"commit it: git add {folder} && git commit")
    return 0


_COMMANDS.append(_add_publish)


def _selection_method(word: str) -> str:
    """The library's name of a ``--selection_method``: the original sample.py's ``max`` is ``argmax``."""
    return {"max": "argmax"}.get(word, word)


def _add_generate(commands) -> None:
    parser = commands.add_parser(
        "generate",
        help="sample songs from a trained run (all songs in one batched pass) as MIDI files and songs.json",
        description="Sample melodies from a finished training run, as the original sample.py: warm up on the "
        "seed, then pick -n notes by roulette-wheel selection (or --selection_method argmax, sample.py's max). Songs include the "
        "seed; each is written as a MIDI file (one beat per note, tempo 120) and all of them in songs.json.",
    )
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument(
        "--run_dir", "--ckpt_dir", dest="run_dir",
        help="a finished run directory (from `python -m musiclib train`, or a model of the published edition: "
        "book/edition/models/control-lstm-1); --ckpt_dir is sample.py's name for it",
    )
    model.add_argument(
        "--model", dest="edition_model", metavar="MODEL",
        help="a selected model of the published edition, by variant and cell: control-lstm, interval-nas, ... "
        "(book/edition/models/; no training needed)",
    )
    parser.add_argument(
        "--seed", help="seed notes, as the original sample.py (default: the paper's, '60 62 64 62'; interval runs: "
        "start pitch then intervals, '60 2 2 -2')",
    )
    parser.add_argument("-n", type=int, default=30, help="notes generated per song after the seed (default 30)")
    parser.add_argument("--n_songs", type=int, default=100, help="songs to generate (default 100)")
    parser.add_argument(
        "--selection_method", type=_selection_method, choices=("roulette", "argmax"), default="roulette",
        help="roulette: sample from the softmax (default, the paper's); argmax (or max, sample.py's word): "
        "the most likely note",
    )
    parser.add_argument("--temperature", type=float, default=1.0, help="divides the logits (default 1.0)")
    parser.add_argument("--output_uri", help="output folder (default RUN_DIR/songs; for a model of the published "
                        "edition runs/songs/MODEL, so the committed edition is never written into)")
    parser.add_argument("--random_seed", type=int, help="seed of the random generator, for reproducible songs (default: a fresh one)")
    parser.add_argument(
        "--ckpt_file", help="sample from this checkpoint of the run (a file name in RUN_DIR/checkpoints, e.g. "
        "step-0000750_loss-2.19148.weights.h5) instead of its best model; the run need not be finished",
    )
    parser.add_argument(
        "--weights", choices=("best", "final"), default="best",
        help="the run's weights with the lowest validation loss (best, default) or after its last step (final)",
    )
    parser.set_defaults(handler=_generate)


def _generate(args) -> int:
    from musiclib.book import edition
    from musiclib.book.paths import resolve_path
    from musiclib.models import generate, train

    if args.edition_model:
        run_dir = edition.edition_model_dir(args.edition_model, resolve_path("book"))
    else:
        run_dir = Path(args.run_dir)
    published = (run_dir / edition.MANIFEST_FILE).is_file()  # the committed edition: never written into
    if published and (args.weights == "final" or args.ckpt_file):
        raise UsageError(f"{run_dir} is a model of the published edition: it keeps only its best weights "
                         "(drop --weights final and --ckpt_file, or train the run: `python -m musiclib train`)")
    if args.ckpt_file:
        model, config, vocab = _checkpoint_model_config_vocab(run_dir, args.ckpt_file)
        source = {"vocab": vocab, "variant": config.variant}
    else:
        run = train.load_run(run_dir)
        model, config, source = run, run.config, {"weights": args.weights}
    seed = args.seed or generate.PAPER_SEEDS[config.variant]
    method = args.selection_method
    songs = generate.generate(
        model, seed, n_notes=args.n, n_songs=args.n_songs, method=method, temperature=args.temperature,
        rng=args.random_seed, **source,
    )
    output_dir = Path(args.output_uri or (Path("runs", "songs", run_dir.name) if published else run_dir / "songs"))
    details = {
        "run_dir": str(run_dir), "ckpt_file": args.ckpt_file, "weights": None if args.ckpt_file else args.weights,
        "variant": config.variant, "model": config.model,
        "num_layers": config.num_layers, "seed": seed, "n_notes": args.n, "selection_method": method,
        "temperature": args.temperature, "random_seed": args.random_seed,
    }
    paths = generate.save_songs(songs, output_dir, details=details)
    print(f"{len(paths)} songs of {len(songs[0])} notes in {output_dir} (MIDI files and {generate.SONGS_FILE})")
    print("first song:", " ".join(str(pitch) for pitch in songs[0]))
    return 0


def _checkpoint_model_config_vocab(run_dir, ckpt_file: str):
    """The model of the checkpoint named ``ckpt_file`` in ``run_dir``, with the run's config and vocabulary."""
    import json

    from musiclib.data.sequences import Vocabulary
    from musiclib.models import train

    checkpoints = train.list_checkpoints(run_dir)
    chosen = [checkpoint for checkpoint in checkpoints if checkpoint.path.name == Path(ckpt_file).name]
    if not chosen:
        names = ", ".join(checkpoint.path.name for checkpoint in checkpoints) or "none"
        raise MissingFileError(f"--ckpt_file {ckpt_file}: not a checkpoint of {run_dir} (its checkpoints: {names})")
    config_path = run_dir / train.CONFIG_FILE
    config = train.TrainConfig.from_dict(json.loads(config_path.read_text()), source=str(config_path))
    return train.load_checkpoint_model(chosen[0]), config, Vocabulary.load(run_dir / train.VOCAB_FILE)


_COMMANDS.append(_add_generate)


def _add_grid(commands) -> None:
    parser = commands.add_parser(
        "grid",
        help="train a profile's grid of runs (datasets x cells x layers) and select the layer counts",
        description="Train every run of a profile's grid (smoke, quick, paper or a .toml file) into "
        "RUNS_DIR/<profile>/<variant>/<cell>-<layers>/, reusing finished runs and resuming interrupted "
        "ones, then print each run's final losses (nats per note) and the layer count with the lowest "
        "validation loss per dataset and cell next to the paper's choice. Exits 1 when a run failed "
        "(the finished ones are kept). With --status, only say where each run stands.",
    )
    _add_profile_arguments(parser)
    parser.add_argument(
        "--status", action="store_true",
        help="train nothing: print each run's state (finished, started, not started), epochs, best "
        "validation loss and training time; safe beside a running grid or reproduction",
    )  # fmt: skip
    parser.set_defaults(handler=_grid)


def _grid(args) -> int:
    from musiclib.experiments.grid import run_grid
    from musiclib.experiments.profiles import load_profile
    from musiclib.experiments.selection import final_losses, select_layers

    profile = load_profile(args.profile, data_source=args.data_dir)
    if args.status:
        from musiclib.experiments.progress import (
            grid_progress,
            progress_summary,
            progress_table,
        )

        progress = grid_progress(profile, args.runs_dir)
        print(progress_table(progress).to_string(index=False, float_format="%.3f", na_rep="-"))
        print(progress_summary(progress))
        return 0
    settings = profile.cluster.overridden(**_cluster_overrides(args))
    result = run_grid(profile, args.runs_dir, cluster=settings, progress=True)
    if result.runs:
        print(final_losses(result).to_string(index=False, float_format="%.3f"))
        print()
        print(select_layers(result).to_string(index=False, float_format="%.3f"))
    for point, error in result.failed.items():
        print(f"error: run {point.label} failed: {error}", file=sys.stderr)
    return 1 if result.failed else 0


_COMMANDS.append(_add_grid)
