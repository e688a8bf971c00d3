"""The paper's experiments as functions: profiles, the 45-run grid, layer selection, generation
with the selected models, and the cross-entropy (checkpoint) study.

A *profile* (``musiclib/profiles/<name>.toml``: smoke, quick, paper) fixes how big everything
is: the data slice, the grid (variants x cells x layer counts), the training recipe, how many
songs to generate. Runs live in ``runs_dir/<profile>/<variant>/<cell>-<layers>/`` and
``train.train`` reuses finished runs and resumes interrupted ones, so calling :func:`run_grid`
again continues where it stopped.

Scaling out (``musiclib.cluster``): ``[grid] workers = N`` in the profile trains N runs at a
time on a local Dask cluster; the profile's ``[cluster]`` section (or ``cluster=``, or the CLI's
``--cluster local|slurm`` / ``--scheduler``) puts them on a Slurm partition or an existing Dask
cluster; ``runs_dir`` must then be on a file system that all workers share. :func:`run_grid` also
takes any ``executor`` with ``submit(fn, *args)`` returning a future with ``result()``. Each run
is one task; finished runs are only loaded, and the driver reads the run directories the workers
wrote (models never travel between processes).

Notebooks 02-05 call these functions and only draw and comment on what comes back.
"""

from __future__ import annotations

import hashlib
import logging
import tomllib
import traceback
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping, Sequence, get_type_hints

import numpy as np
import pandas as pd

from musiclib.cluster import ClusterSettings, settings_for_grid, train_on_cluster

log = logging.getLogger(__name__)

PROFILES_DIR = Path(__file__).with_name("profiles")
PROFILES = ("smoke", "quick", "paper")
CROSS_ENTROPY_DIR = "cross_entropy"


class ProfileError(ValueError):
    """A profile that does not exist or holds a missing, unknown or ill-typed setting."""


@dataclass(frozen=True)
class DataSettings:
    """Which melodies: a bundled corpus name or a path, at most ``max_songs`` of them
    (absent = all), each with at least ``min_notes`` notes."""

    source: str
    min_notes: int
    max_songs: int | None = None


@dataclass(frozen=True)
class GridSettings:
    """The design: every variant x cell x number of stacked recurrent layers is one run.
    ``workers``: runs trained at the same time in local processes when no executor is given."""

    variants: tuple[str, ...]
    cells: tuple[str, ...]
    layers: tuple[int, ...]
    workers: int = 1


@dataclass(frozen=True)
class TrainSettings:
    """The training recipe shared by all runs (``train.TrainConfig`` fields; epochs per variant)."""

    rnn_size: int
    batch_size: int
    seq_length: int
    learning_rate: float
    decay_rate: float
    grad_clip: float
    save_every: int
    seed: int
    num_epochs: dict[str, int]


@dataclass(frozen=True)
class GenerationSettings:
    """Songs per selected model, notes generated per song (after the seed), and songs per
    checkpoint in the cross-entropy study."""

    n_songs: int
    n_notes: int
    songs_per_checkpoint: int


@dataclass(frozen=True)
class CrossEntropySettings:
    """Paper 3's run: one model trained with frequent checkpoints (``save_every`` steps)."""

    variant: str
    cell: str
    num_layers: int
    batch_size: int
    num_epochs: int
    save_every: int


@dataclass(frozen=True)
class Profile:
    """A loaded profile; ``name`` is also the folder of its runs under ``runs_dir``."""

    name: str
    description: str
    data: DataSettings
    grid: GridSettings
    train: TrainSettings
    generation: GenerationSettings
    cross_entropy: CrossEntropySettings
    cluster: ClusterSettings = ClusterSettings()


_SECTIONS = {
    "data": DataSettings,
    "grid": GridSettings,
    "train": TrainSettings,
    "generation": GenerationSettings,
    "cross_entropy": CrossEntropySettings,
    "cluster": ClusterSettings,
}
_OPTIONAL_SECTIONS = {"cluster"}  # absent: the defaults


def load_profile(name_or_path: str | Path, *, data_source: str | None = None) -> Profile:
    """Load a profile by name (``PROFILES``) or from a TOML file path.

    ``data_source`` (a bundled corpus name or a folder/pickle path) replaces the profile's
    ``[data] source``; the profile's name then gets a suffix naming that source, so its runs do
    not mix with runs on other data. Raises ``ProfileError`` naming the profile file and the
    setting for an unknown profile, a missing or unknown setting or a value of the wrong type.
    """
    path = Path(name_or_path)
    if path.suffix != ".toml":
        if str(name_or_path) not in PROFILES:
            raise ProfileError(
                f"unknown profile {str(name_or_path)!r}: choose one of {', '.join(PROFILES)} "
                "or give the path of a .toml profile file"
            )
        path = PROFILES_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise ProfileError(f"profile file {path} does not exist")
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ProfileError(f"profile file {path} is not valid TOML: {error}") from error
    unknown = set(document) - set(_SECTIONS) - {"description"}
    if unknown:
        raise ProfileError(
            f"profile file {path}: unknown section(s) {sorted(unknown)}; "
            f"expected description and [{'], ['.join(_SECTIONS)}]"
        )
    sections = {
        section: _read_section(path, section, cls, document.get(section))
        for section, cls in _SECTIONS.items()
    }
    profile = Profile(
        name=path.stem, description=str(document.get("description", "")), **sections
    )
    _check_values(path, profile)
    if data_source is not None and str(data_source) != profile.data.source:
        profile = replace(
            profile,
            name=f"{profile.name}-{_source_label(data_source)}",
            data=replace(profile.data, source=str(data_source)),
        )
    return profile


def _read_section(path: Path, section: str, cls: type, values: Any) -> Any:
    """Build ``cls`` from the TOML table ``[section]``, checking names and types."""
    where = f"profile file {path}, section [{section}]"
    if values is None and section in _OPTIONAL_SECTIONS:
        return cls()
    if not isinstance(values, dict):
        raise ProfileError(f"{where} is missing")
    hints = get_type_hints(cls)
    required = {f.name for f in fields(cls) if f.default is MISSING}
    unknown = set(values) - set(hints)
    if unknown:
        raise ProfileError(f"{where}: unknown setting(s) {sorted(unknown)}; known: {sorted(hints)}")
    missing = required - set(values)
    if missing:
        raise ProfileError(f"{where}: missing setting(s) {sorted(missing)}")
    converted = {}
    for name, value in values.items():
        expected = hints[name]
        ok, converted[name] = _convert(value, expected)
        if not ok:
            raise ProfileError(f"{where}: {name} = {value!r} is not a valid {expected}")
    try:
        return cls(**converted)
    except ValueError as error:  # checks across settings (the cluster section's)
        raise ProfileError(f"{where}: {error}") from error


def _convert(value: Any, expected: Any) -> tuple[bool, Any]:
    """(is ``value`` of type ``expected``, the value as that type) for the profile types."""
    if expected in (int, float, str):
        ok = _is_scalar(value, expected)
        return ok, float(value) if ok and expected is float else value
    if expected in (int | None, str | None):
        return _is_scalar(value, expected.__args__[0]), value
    if expected in (tuple[str, ...], tuple[int, ...]):
        kind = expected.__args__[0]
        ok = isinstance(value, list) and bool(value) and all(_is_scalar(item, kind) for item in value)
        return ok, tuple(value) if ok else value
    if expected == dict[str, int]:
        ok = isinstance(value, dict) and all(_is_scalar(item, int) for item in value.values())
        return ok, dict(value) if ok else value
    raise TypeError(f"no profile conversion for {expected}")


def _is_scalar(value: Any, kind: type) -> bool:
    """Is ``value`` a TOML ``kind`` (an int also counts as a float; a bool never as a number)?"""
    accepted = (int, float) if kind is float else (kind,)
    return isinstance(value, accepted) and not isinstance(value, bool)


def _check_values(path: Path, profile: Profile) -> None:
    """Value checks across sections (names known to musiclib, positive sizes)."""
    from musiclib.data import VARIANTS
    from musiclib.models import CELLS

    grid, train = profile.grid, profile.train
    checks = [
        ("grid.variants", set(grid.variants) <= set(VARIANTS), f"each one of {VARIANTS}"),
        ("grid.cells", set(grid.cells) <= set(CELLS), f"each one of {CELLS}"),
        ("grid.layers", all(n >= 1 for n in grid.layers), "layer counts >= 1"),
        ("grid.workers", grid.workers >= 1, ">= 1"),
        ("cross_entropy.variant", profile.cross_entropy.variant in VARIANTS, f"one of {VARIANTS}"),
        ("cross_entropy.cell", profile.cross_entropy.cell in CELLS, f"one of {CELLS}"),
        (
            "train.num_epochs",
            set(grid.variants) <= set(train.num_epochs) and min(train.num_epochs.values()) >= 1,
            f"epochs >= 1 for every variant in {grid.variants}",
        ),
        (
            "sizes",
            min(train.rnn_size, train.batch_size, train.seq_length, train.save_every) >= 1
            and min(profile.generation.n_songs, profile.generation.n_notes) >= 1
            and (profile.data.max_songs is None or profile.data.max_songs >= 1),
            "rnn_size, batch_size, seq_length, save_every, n_songs, n_notes, max_songs >= 1",
        ),
    ]
    for setting, ok, expectation in checks:
        if not ok:
            raise ProfileError(f"profile file {path}: {setting} must be {expectation}")


def _source_label(data_source: str | Path) -> str:
    """A folder-name-safe label for a data source: the corpus name, or a path's name + hash."""
    from musiclib.data import BUNDLED_CORPORA

    if str(data_source) in BUNDLED_CORPORA:
        return str(data_source)
    resolved = str(Path(data_source).expanduser().resolve())
    digest = hashlib.sha1(resolved.encode("utf-8")).hexdigest()[:8]
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(resolved).stem)
    return f"{stem}-{digest}"


# ---------------------------------------------------------------------------------------------
# Data, loaded once per process and profile


@dataclass
class ExperimentData:
    """The profile's melodies, their splits and the prepared variants (``data.VariantData``)."""

    corpus: Any
    splits: Any
    variants: dict[str, Any]


_DATA_CACHE: dict[tuple, ExperimentData] = {}


def load_data(profile: Profile, *, cache_dir: str | Path | None = None, progress: bool = False) -> ExperimentData:
    """Load the profile's corpus, split it and prepare every variant of its grid (cached).

    The corpus goes through ``data.load_corpus`` (its own disk cache makes a second process
    fast); within one process the result is kept, so notebooks share one load.
    """
    from musiclib import data

    variants = tuple(dict.fromkeys([*profile.grid.variants, profile.cross_entropy.variant]))
    key = (profile.data, variants, str(cache_dir))
    if key not in _DATA_CACHE:
        corpus = data.load_corpus(
            profile.data.source,
            min_notes=profile.data.min_notes,
            max_songs=profile.data.max_songs,
            cache_dir=cache_dir,
            progress=progress,
        )
        splits = data.split_melodies(corpus.melodies)
        prepared = {variant: data.prepare_variant(splits, variant) for variant in variants}
        _DATA_CACHE[key] = ExperimentData(corpus, splits, prepared)
    return _DATA_CACHE[key]


# ---------------------------------------------------------------------------------------------
# The grid


@dataclass(frozen=True, order=True)
class GridPoint:
    """One run of the design: a variant, a cell and a number of stacked layers."""

    variant: str
    cell: str
    num_layers: int

    @property
    def model_name(self) -> str:
        """The paper's model name, e.g. ``lstm3``."""
        return f"{self.cell}{self.num_layers}"

    @property
    def label(self) -> str:
        """A readable name, e.g. ``control lstm, 3 layers``."""
        return f"{self.variant} {self.cell}, {self.num_layers} layer{'s' if self.num_layers > 1 else ''}"


def grid_points(profile: Profile) -> list[GridPoint]:
    """Every (variant, cell, layers) of the profile's grid, variant-major as the paper's tables."""
    grid = profile.grid
    return [
        GridPoint(variant, cell, layers)
        for variant in grid.variants
        for cell in grid.cells
        for layers in grid.layers
    ]


def run_dir(runs_dir: str | Path, profile: Profile, point: GridPoint) -> Path:
    """``runs_dir/<profile>/<variant>/<cell>-<layers>``."""
    return Path(runs_dir) / profile.name / point.variant / f"{point.cell}-{point.num_layers}"


def train_config(profile: Profile, point: GridPoint):
    """The ``train.TrainConfig`` of one grid point under the profile's recipe."""
    from musiclib.train import TrainConfig

    settings = profile.train
    return TrainConfig(
        variant=point.variant,
        model=point.cell,
        num_layers=point.num_layers,
        rnn_size=settings.rnn_size,
        batch_size=settings.batch_size,
        seq_length=settings.seq_length,
        num_epochs=settings.num_epochs[point.variant],
        save_every=settings.save_every,
        learning_rate=settings.learning_rate,
        decay_rate=settings.decay_rate,
        grad_clip=settings.grad_clip,
        seed=settings.seed,
    )


@dataclass
class GridResult:
    """Finished runs (``train.Run``) by grid point, and the error of each run that failed."""

    runs: dict[GridPoint, Any] = field(default_factory=dict)
    failed: dict[GridPoint, str] = field(default_factory=dict)


def _train_one(config, variant_data, directory: str) -> None:
    """Train (or finish, or reuse) one run in an executor's worker; module-level so it pickles.
    Returns nothing: the driver loads the finished run directory (models do not travel)."""
    from musiclib.train import train

    train(config, variant_data, directory, progress=False)


def run_grid(
    profile: Profile,
    runs_dir: str | Path,
    *,
    data: ExperimentData | None = None,
    points: Sequence[GridPoint] | None = None,
    executor: Any = None,
    cluster: ClusterSettings | None = None,
    progress: bool = False,
) -> GridResult:
    """Train every grid point of the profile (default: all of them) and load the finished runs.

    Finished runs are reused and interrupted ones resumed (``train.train``). A run that raises
    is logged and recorded in ``GridResult.failed`` with its error; the others go on. With an
    ``executor`` (``.submit(fn, *args)`` -> future with ``.result()``) every run is one task and
    the finished run directories are loaded here. Otherwise ``cluster`` (default: the profile's
    ``[cluster]`` section, overridden by ``$MUSICLIB_CLUSTER``; see
    ``cluster.settings_for_grid``) decides: a Dask cluster (one task per run, one console line
    per finished or failed run when ``progress``), or here, one after another.
    """
    from musiclib.train import COMPLETE_FILE

    data = data or load_data(profile, progress=progress)
    points = list(points) if points is not None else grid_points(profile)
    tasks = [
        (point, train_config(profile, point), data.variants[point.variant], run_dir(runs_dir, profile, point))
        for point in points
    ]
    # finished runs are only loaded (here); the others are trained here or on the executor
    finished = [task for task in tasks if (task[3] / COMPLETE_FILE).exists()]
    pending = [task for task in tasks if not (task[3] / COMPLETE_FILE).exists()]
    settings = None if executor is not None else settings_for_grid(profile.cluster, cluster, profile.grid.workers, len(pending))
    if executor is not None:
        outcomes = _train_on(executor, pending, progress)
    elif settings is not None:
        outcomes = _train_on_cluster(settings, pending, Path(runs_dir) / profile.name / "cluster-logs", progress)
    else:
        outcomes = _train_here(pending, progress)
    outcomes += _train_here(finished, False)
    result = GridResult()
    outcome_of = dict(outcomes)
    for point in points:  # in the profile's order
        run, error = outcome_of[point]
        if error is None:
            result.runs[point] = run
        else:
            log.error("run %s/%s failed: %s", point.variant, point.model_name, error)
            result.failed[point] = error
    return result


def _train_here(tasks: list, progress: bool) -> list:
    """(point, (run, error)) for each task, trained (or loaded) in this process."""
    from musiclib.train import train

    return [
        (point, _outcome(train, config, variant_data, directory, progress=False))
        for point, config, variant_data, directory in _progress(tasks, progress)
    ]


def _train_on(executor, tasks: list, progress: bool) -> list:
    """(point, (run, error)) for each task, trained as one executor task each."""
    futures = [
        (point, directory, executor.submit(_train_one, config, variant_data, str(directory)))
        for point, config, variant_data, directory in tasks
    ]
    return [(point, _outcome(_finished_run, future, directory)) for point, directory, future in _progress(futures, progress)]


def _train_on_cluster(settings: ClusterSettings, tasks: list, log_directory: Path, progress: bool) -> list:
    """(point, (run, error)) for each task, trained as one task each on the Dask cluster of ``settings``."""
    from musiclib.cluster import open_cluster
    from musiclib.train import load_run

    echo = print if progress else log.info
    directories = {point: directory for point, _, _, directory in tasks}
    outcomes = []
    with open_cluster(settings, runs=len(tasks), log_directory=log_directory, echo=echo) as client:
        for outcome in train_on_cluster(client, tasks, retries=settings.retries):
            echo(outcome.line)
            loaded = _outcome(load_run, directories[outcome.key]) if outcome.error is None else (None, outcome.error)
            outcomes.append((outcome.key, loaded))
    return outcomes


def _finished_run(future, directory: Path):
    """Wait for an executor's training task, then load the run it finished."""
    from musiclib.train import load_run

    future.result()
    return load_run(directory)


def _outcome(call, *arguments, **keywords) -> tuple[Any, str | None]:
    """``(call(...), None)``, or ``(None, the error as one line)`` when it raises."""
    try:
        return call(*arguments, **keywords), None
    except Exception as error:  # a failing run must not lose the others
        return None, "".join(traceback.format_exception_only(type(error), error)).strip()


def _progress(items: list, enabled: bool):
    """``items`` with a tqdm bar when ``enabled``."""
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc="runs")


# ---------------------------------------------------------------------------------------------
# Learning curves and layer selection (notebook 02)


def learning_curves(result: GridResult) -> pd.DataFrame:
    """Per-epoch losses of every run, long format.

    Columns: variant, cell, num_layers, epoch, split ("train"/"validation"), loss (nats per token).
    """
    rows = [
        {**_point_columns(point), "epoch": epoch["epoch"], "split": split, "loss": epoch[column]}
        for point, run in result.runs.items()
        for epoch in run.history["epochs"]
        for split, column in (("train", "train_loss"), ("validation", "val_loss"))
    ]
    return pd.DataFrame(rows, columns=["variant", "cell", "num_layers", "epoch", "split", "loss"])


def step_curves(result: GridResult, *, smoothing_steps: int | None = None) -> pd.DataFrame:
    """Training loss of every step of every run (as TensorBoard shows it), on an epoch axis.

    Columns: variant, cell, num_layers, step, epoch (step / steps per epoch, fractional), loss
    (nats per token, running mean over ``smoothing_steps`` steps; default a tenth of an epoch).
    """
    frames = []
    for point, run in result.runs.items():
        steps = pd.DataFrame(run.history["steps"], columns=["step", "loss"])
        steps_per_epoch = steps["step"].max() / len(run.history["epochs"])
        window = smoothing_steps or max(1, round(steps_per_epoch / 10))
        frame = pd.DataFrame(
            {
                "step": steps["step"],
                "epoch": steps["step"] / steps_per_epoch,
                "loss": steps["loss"].rolling(window, min_periods=1).mean(),
            }
        )
        for column, value in reversed(_point_columns(point).items()):
            frame.insert(0, column, value)
        frames.append(frame)
    columns = ["variant", "cell", "num_layers", "step", "epoch", "loss"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def final_losses(result: GridResult) -> pd.DataFrame:
    """Last-epoch training and validation loss (nats per token) per run.

    Columns: variant, cell, num_layers, train_loss, val_loss, seconds (training time).
    """
    rows = []
    for point, run in result.runs.items():
        epochs = run.history["epochs"]
        rows.append(
            {
                **_point_columns(point),
                "train_loss": epochs[-1]["train_loss"],
                "val_loss": epochs[-1]["val_loss"],
                "seconds": sum(epoch.get("seconds", 0.0) for epoch in epochs),
            }
        )
    return pd.DataFrame(rows, columns=["variant", "cell", "num_layers", "train_loss", "val_loss", "seconds"])


def select_layers(result: GridResult) -> pd.DataFrame:
    """The layer count with the lowest final validation loss per (variant, cell).

    The final model is the one we generate from, so its last-epoch validation loss decides
    (the paper chose by eye from training-loss curves; it had no validation split). Columns:
    variant, cell, num_layers, val_loss, paper_num_layers (the paper's choice, from
    ``musiclib.published``; NaN for pairs it did not study).
    """
    from musiclib import published

    losses = final_losses(result)
    if losses.empty:
        raise ValueError("no finished runs to select from")
    best = losses.loc[losses.groupby(["variant", "cell"], sort=False)["val_loss"].idxmin()]
    paper = published.table("chosen_layers").rename(columns={"num_layers": "paper_num_layers"})
    selected = best[["variant", "cell", "num_layers", "val_loss"]].merge(paper, on=["variant", "cell"], how="left")
    return selected.reset_index(drop=True)


def selected_runs(result: GridResult, selection: pd.DataFrame) -> dict[tuple[str, str], Any]:
    """(variant, cell) -> the selected ``train.Run``."""
    return {
        (row.variant, row.cell): result.runs[GridPoint(row.variant, row.cell, int(row.num_layers))]
        for row in selection.itertuples()
    }


def baseline_comparison(data: ExperimentData, selection: pd.DataFrame) -> pd.DataFrame:
    """Validation loss (nats per token) of each selected model next to unigram and bigram.

    Columns: variant, cell, num_layers, val_loss, unigram, bigram, beats_bigram.
    """
    from musiclib.ngram import baseline_losses

    baselines = pd.DataFrame(
        [{"variant": variant, **baseline_losses(data.variants[variant])} for variant in selection["variant"].unique()]
    )
    table = selection[["variant", "cell", "num_layers", "val_loss"]].merge(baselines, on="variant")
    table["beats_bigram"] = table["val_loss"] < table["bigram"]
    return table


def _point_columns(point: GridPoint) -> dict[str, Any]:
    return {"variant": point.variant, "cell": point.cell, "num_layers": point.num_layers}


# ---------------------------------------------------------------------------------------------
# Generation with the selected models (notebook 03)


def generate_for_selected(
    profile: Profile, runs: Mapping[tuple[str, str], Any], *, seed: int = 0
) -> dict[tuple[str, str], list[list[int]]]:
    """``n_songs`` songs of ``n_notes`` generated notes (plus the paper's seed) per model.

    ``runs``: (variant, cell) -> ``train.Run`` (see :func:`selected_runs`). Seeds are
    ``generate.PAPER_SEEDS`` per variant; sampling is the paper's roulette wheel; ``seed``
    makes it reproducible. Returns MIDI pitch lists per (variant, cell).
    """
    from musiclib.generate import PAPER_SEEDS, generate

    return {
        (variant, cell): generate(
            run,
            PAPER_SEEDS[variant],
            n_notes=profile.generation.n_notes,
            n_songs=profile.generation.n_songs,
            rng=np.random.default_rng([seed, index]),
        )
        for index, ((variant, cell), run) in enumerate(runs.items())
    }


def song_metrics(songs: Mapping[tuple[str, str], list[list[int]]]) -> pd.DataFrame:
    """Per-song metrics: columns variant, cell, song (index within its model), CMM, LM, CENTR."""
    from musiclib.metrics import evaluate

    tables = []
    for (variant, cell), melodies in songs.items():
        table = evaluate(melodies).reset_index(drop=True)
        table.insert(0, "song", range(len(table)))
        table.insert(0, "cell", cell)
        table.insert(0, "variant", variant)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def metrics_summary(per_song: pd.DataFrame) -> pd.DataFrame:
    """Mean and sample std (ddof=1) of each metric per model, long like the paper's TABLE III.

    Columns: metric, variant, cell, mean, std, n.
    """
    from musiclib.metrics import METRICS, summarize

    rows = []
    for metric in METRICS:
        for (variant, cell), table in per_song.groupby(["variant", "cell"], sort=False):
            summary = summarize(table[list(METRICS)])
            rows.append({"metric": metric, "variant": variant, "cell": cell, **summary.loc[metric].to_dict()})
    return pd.DataFrame(rows)[["metric", "variant", "cell", "mean", "std", "n"]]


def most_representative_songs(
    per_song: pd.DataFrame, songs: Mapping[tuple[str, str], list[list[int]]]
) -> pd.DataFrame:
    """The most representative song of each model (closest to its metrics' mean, as the paper).

    Columns: variant, cell, song, CMM, LM, CENTR, pitches (the MIDI pitch list).
    """
    from musiclib.metrics import METRICS, most_representative

    rows = []
    for (variant, cell), table in per_song.groupby(["variant", "cell"], sort=False):
        table = table.reset_index(drop=True)
        index = most_representative(table[list(METRICS)])
        row = table.loc[index]
        rows.append(
            {
                "variant": variant,
                "cell": cell,
                "song": int(row["song"]),
                **{metric: row[metric] for metric in METRICS},
                "pitches": list(songs[(variant, cell)][int(row["song"])]),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# The cross-entropy study (paper 3, notebook 05)


def cross_entropy_config(profile: Profile):
    """The ``train.TrainConfig`` of the checkpoint study (the grid recipe, paper 3's overrides)."""
    study = profile.cross_entropy
    config = train_config(profile, GridPoint(study.variant, study.cell, study.num_layers))
    return replace(
        config, batch_size=study.batch_size, num_epochs=study.num_epochs, save_every=study.save_every
    )


def cross_entropy_run_dir(runs_dir: str | Path, profile: Profile) -> Path:
    """``runs_dir/<profile>/cross_entropy/<cell>-<layers>``."""
    study = profile.cross_entropy
    return Path(runs_dir) / profile.name / CROSS_ENTROPY_DIR / f"{study.cell}-{study.num_layers}"


def run_cross_entropy_study(
    profile: Profile, runs_dir: str | Path, *, data: ExperimentData | None = None, progress: bool = False
):
    """Train (or reuse) the study's model with frequent checkpoints; returns its ``train.Run``."""
    from musiclib.train import train

    data = data or load_data(profile, progress=progress)
    variant_data = data.variants[profile.cross_entropy.variant]
    return train(cross_entropy_config(profile), variant_data, cross_entropy_run_dir(runs_dir, profile), progress=progress)


def pitch_entropy(pitches: Sequence[int]) -> float:
    """Shannon entropy (nats) of a melody's pitch distribution: 0 for one repeated pitch,
    ln(n) for n equally used pitches. A measure of randomness."""
    _, counts = np.unique(np.asarray(pitches), return_counts=True)
    probabilities = counts / counts.sum()
    return float(-(probabilities * np.log(probabilities)).sum())


def pitch_range(pitches: Sequence[int]) -> int:
    """Highest minus lowest pitch of a melody, in semitones."""
    return int(max(pitches) - min(pitches))


CHECKPOINT_MEASURES = ("CMM", "LM", "CENTR", "pitch_entropy", "pitch_range")


def checkpoint_study(run, profile: Profile, *, seed: int = 0) -> tuple[pd.DataFrame, dict[int, list[list[int]]]]:
    """Songs from every checkpoint of ``run`` with the same seed, and their measures.

    For each checkpoint (``train.list_checkpoints``), ``songs_per_checkpoint`` songs of
    ``n_notes`` notes are generated from the paper's seed with the same random stream. Returns
    (table, songs): table columns step, loss (training cross-entropy of the checkpoint, nats
    per token) and the mean over its songs of ``CHECKPOINT_MEASURES``; songs by step.
    """
    from musiclib.generate import PAPER_SEEDS, generate
    from musiclib.metrics import evaluate
    from musiclib.train import list_checkpoints, load_checkpoint_model

    variant = profile.cross_entropy.variant
    checkpoints = list_checkpoints(run.run_dir)
    if not checkpoints:
        raise ValueError(f"run {run.run_dir} has no checkpoints; lower cross_entropy.save_every in the profile")
    rows, songs_by_step = [], {}
    for checkpoint in checkpoints:
        songs = generate(
            load_checkpoint_model(checkpoint),
            PAPER_SEEDS[variant],
            n_notes=profile.generation.n_notes,
            n_songs=profile.generation.songs_per_checkpoint,
            rng=np.random.default_rng(seed),
            vocab=run.vocab,
            variant=variant,
        )
        measures = evaluate(songs)
        measures["pitch_entropy"] = [pitch_entropy(song) for song in songs]
        measures["pitch_range"] = [pitch_range(song) for song in songs]
        rows.append({"step": checkpoint.step, "loss": checkpoint.loss, **measures[list(CHECKPOINT_MEASURES)].mean().to_dict()})
        songs_by_step[checkpoint.step] = songs
    return pd.DataFrame(rows), songs_by_step


def rank_correlations(table: pd.DataFrame, *, against: str = "loss") -> pd.DataFrame:
    """Spearman rank correlation of ``against`` with each of ``CHECKPOINT_MEASURES``.

    Columns: measure, spearman_rho, p_value, n. NaN where a measure is constant.
    """
    from scipy.stats import spearmanr

    rows = []
    for measure in CHECKPOINT_MEASURES:
        if table[measure].nunique() < 2 or table[against].nunique() < 2:
            rho, p_value = float("nan"), float("nan")
        else:
            rho, p_value = spearmanr(table[against], table[measure])
        rows.append({"measure": measure, "spearman_rho": float(rho), "p_value": float(p_value), "n": len(table)})
    return pd.DataFrame(rows)


def dataset_metrics(data: ExperimentData) -> pd.DataFrame:
    """Metrics (CMM, LM, CENTR) of every training melody: the dataset baseline of TABLE I."""
    from musiclib.metrics import evaluate

    return evaluate(data.splits.train)


def compare_models_to_dataset(per_song: pd.DataFrame, dataset_table: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Bootstrap comparison of every model's songs with the dataset (``metrics.compare_to_baseline``).

    Columns: variant, cell, metric, mean, baseline_mean, difference, ci_low, ci_high (95 %
    interval of the difference of means), excludes_zero, n, baseline_n.
    """
    from musiclib.metrics import compare_to_baseline

    tables = []
    for (variant, cell), table in per_song.groupby(["variant", "cell"], sort=False):
        comparison = compare_to_baseline(table, dataset_table, seed=seed).reset_index()
        comparison.insert(0, "cell", cell)
        comparison.insert(0, "variant", variant)
        tables.append(comparison)
    return pd.concat(tables, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Figures (matplotlib, imported when drawn)


def plot_learning_curves(
    curves: pd.DataFrame,
    baselines: Mapping[str, Mapping[str, float]] | None = None,
    steps: pd.DataFrame | None = None,
):
    """One panel per (variant, cell) with a line per layer count: validation loss after each
    epoch (dashed, dots) and training loss, per step from ``steps`` (:func:`step_curves`) when
    given, else per epoch (solid). ``baselines`` (variant -> {"unigram": .., "bigram": ..}) are
    drawn as horizontal grey lines. Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    variants = list(dict.fromkeys(curves["variant"]))
    cells = list(dict.fromkeys(curves["cell"]))
    layer_counts = [int(layers) for layers in sorted(curves["num_layers"].unique())]
    colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(layer_counts)))
    figure, axes = plt.subplots(
        len(variants), len(cells), figsize=(4.2 * len(cells), 3.2 * len(variants)), squeeze=False
    )
    for row, variant in enumerate(variants):
        for column, cell in enumerate(cells):
            axis = axes[row][column]
            for colour, layers in zip(colours, layer_counts):
                run = {"variant": variant, "cell": cell, "num_layers": layers}
                epochs = _rows(curves, run)
                training = _rows(steps, run) if steps is not None else epochs[epochs["split"] == "train"]
                label = f"{layers} layer{'s' if layers > 1 else ''}"
                axis.plot(training["epoch"], training["loss"], "-", color=colour, linewidth=1, label=label)
                validation = epochs[epochs["split"] == "validation"]
                axis.plot(validation["epoch"], validation["loss"], "--", marker="o", markersize=3, color=colour)
            for name, style in (("unigram", ":"), ("bigram", "-.")):
                if baselines and variant in baselines:
                    axis.axhline(baselines[variant][name], linestyle=style, color="grey", linewidth=1, label=name)
            axis.set_title(f"{variant} / {cell}")
            axis.set_xlabel("epoch")
            axis.set_ylabel("cross-entropy (nats/note)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False)
    figure.text(0.5, 0.005, "solid: training loss; dashed with dots: validation loss after each epoch", ha="center")
    figure.tight_layout(rect=(0, 0.02, 1, 0.96))
    return figure


def _rows(table: pd.DataFrame, values: Mapping[str, Any]) -> pd.DataFrame:
    """The rows of ``table`` whose columns equal ``values``."""
    mask = np.ones(len(table), dtype=bool)
    for column, value in values.items():
        mask &= (table[column] == value).to_numpy()
    return table[mask]


def plot_embedding_map(points: np.ndarray, labels: Sequence[str], *, title: str, highlight: Sequence[str] = (), axis=None):
    """Scatter of a 2-D projection (t-SNE) with each point labelled (note name or interval);
    labels in ``highlight`` are drawn in red. Returns the axis."""
    import matplotlib.pyplot as plt

    axis = axis or plt.subplots(figsize=(7, 6))[1]
    axis.scatter(points[:, 0], points[:, 1], s=10, color="lightsteelblue")
    for (x, y), label in zip(points, labels):
        axis.annotate(label, (x, y), fontsize=7, color="red" if label in highlight else "black", ha="center")
    axis.set_title(title)
    axis.set_xlabel("t-SNE 1")
    axis.set_ylabel("t-SNE 2")
    return axis


def plot_checkpoint_measures(table: pd.DataFrame):
    """The checkpoint study: each measure of the generated songs against the checkpoint's
    training loss (nats/note; lower = later in training). Returns the figure."""
    import matplotlib.pyplot as plt

    units = {"CMM": "semitones", "LM": "score (1 = ideal)", "CENTR": "share of window", "pitch_entropy": "nats", "pitch_range": "semitones"}
    figure, axes = plt.subplots(1, len(CHECKPOINT_MEASURES), figsize=(3.4 * len(CHECKPOINT_MEASURES), 3.2))
    for axis, measure in zip(axes, CHECKPOINT_MEASURES):
        axis.plot(table["loss"], table[measure], "o-", markersize=4)
        axis.set_xlabel("checkpoint loss (nats/note)")
        axis.set_ylabel(f"{measure} ({units[measure]})")
        axis.invert_xaxis()
    figure.tight_layout()
    return figure
