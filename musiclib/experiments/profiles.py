"""Profiles: how big every experiment is.

A *profile* (``musiclib/profiles/<name>.toml``: smoke, quick, paper, or any TOML file of the same
shape) fixes the data slice, the grid (variants x cells x layer counts x training seeds), the training settings
(``[train]``: :class:`musiclib.models.settings.TrainConfig`, any setting per dataset variant),
how many songs to generate, the checkpoint study and the embedding tests. :func:`load_profile` reads and checks one;
every mistake raises :class:`ProfileError` naming the file and the setting.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, get_type_hints

from musiclib.common.checks import UsageError
from musiclib.experiments.cluster import ClusterSettings
from musiclib.models.settings import RUN_SETTINGS, TrainConfig, TrainingError

PROFILES_DIR = Path(__file__).with_name("profiles")
PROFILES = ("smoke", "quick", "study", "paper")


class ProfileError(UsageError):
    """A profile that does not exist or holds a missing, unknown or ill-typed setting."""


@dataclass(frozen=True)
class DataSettings:
    """Which melodies a profile uses.

    Attributes
    ----------
    source : str
        A bundled corpus name (``"essen"``) or the path of a folder or pickle.
    min_notes : int
        Melodies with fewer notes are dropped (the paper: 12).
    max_songs : int or None
        At most this many melodies, in a fixed order; None takes all of them.
    """

    source: str
    min_notes: int
    max_songs: int | None = None


@dataclass(frozen=True)
class GridSettings:
    """The design: every variant x cell x number of stacked recurrent layers, trained with one or
    more seeds; each (point, seed) is one run.

    Attributes
    ----------
    variants : tuple of str
        Data variants (``"control"``, ``"interval"``, ``"db12"``).
    cells : tuple of str
        Recurrent cells (``"lstm"``, ``"nas"``, ``"ugrnn"``).
    layers : tuple of int
        Numbers of stacked recurrent layers.
    workers : int
        Runs trained at the same time in local processes when no executor is given.
    seeds : int or dict of str to int
        Training seeds per grid point (initial weights), one number for every variant or one per
        variant (``{ control = 3, interval = 3, db12 = 3 }``; a variant left out gets 1). The
        depth of a (variant, cell) is chosen over its seeds by the one-standard-error rule
        (:func:`musiclib.experiments.selection.select_layers`), which needs at least 2.
    layers_with_seeds : dict of str to (tuple of int or dict of str to tuple of int)
        "More seeds only at these depths": per variant, the layer counts that get all of its
        ``seeds``, for every cell (``{ db12 = [2, 3, 4] }``: DB12 runs cost 12 times the tokens,
        so only the competing depths are repeated) or per cell (``{ control = { lstm = [1, 2, 3],
        nas = [1, 2] } }``); the other layer counts get one seed. A variant or cell left out gets
        its seeds at every layer count.
    seed_margin : float, optional
        The rule that chose ``layers_with_seeds``, in nats per note: further seeds at the depths
        whose first seed lies within this margin of its (variant, cell)'s best first seed
        (:func:`musiclib.experiments.selection.competing_depths`). The grid trains
        ``layers_with_seeds``; chapter 2 checks them against this rule on the finished runs.
    """

    variants: tuple[str, ...]
    cells: tuple[str, ...]
    layers: tuple[int, ...]
    workers: int = 1
    seeds: int | dict[str, int] = 1
    layers_with_seeds: dict[str, tuple[int, ...] | dict[str, tuple[int, ...]]] = field(default_factory=dict)
    seed_margin: float | None = None

    def seed_count(self, variant: str, cell: str, num_layers: int) -> int:
        """How many training seeds the grid point (``variant``, ``cell``, ``num_layers``) gets.

        Parameters
        ----------
        variant : str
        cell : str
        num_layers : int

        Returns
        -------
        int
            :attr:`seeds` for the variant, or 1 at a layer count that :attr:`layers_with_seeds`
            leaves out.
        """
        count = self.seeds.get(variant, 1) if isinstance(self.seeds, dict) else self.seeds
        repeated = self.layers_with_seeds.get(variant)
        if isinstance(repeated, dict):
            repeated = repeated.get(cell)
        return count if repeated is None or num_layers in repeated else 1


@dataclass(frozen=True)
class GenerationSettings:
    """How much to generate.

    Attributes
    ----------
    n_songs : int
        Songs per selected model (the paper: 100).
    n_notes : int
        Notes generated per song after the seed (the paper: 30).
    songs_per_checkpoint : int
        Songs per checkpoint in the cross-entropy study.
    """

    n_songs: int
    n_notes: int
    songs_per_checkpoint: int


@dataclass(frozen=True)
class CrossEntropySettings:
    """The cross-entropy study's runs (paper 3): one model per seed, trained with log-spaced checkpoints.

    ``variant``, ``cell`` and ``num_layers`` name the model; ``batch_size`` and ``num_epochs``
    override the ``[train]`` settings (the others, e.g. ``rnn_size``, apply); ``seeds`` are the
    independent training runs (at least 2: the trends are estimated across them). The
    checkpoint steps are not set here: they follow from the run's length
    (:func:`musiclib.chapters.cross_entropy.along_training.checkpoint_schedule`).
    """

    variant: str
    cell: str
    num_layers: int
    batch_size: int
    num_epochs: int
    seeds: tuple[int, ...] = (0, 1)


@dataclass(frozen=True)
class ReplicateSettings:
    """Run-to-run variance (optional section ``[replicates]``): the selected models of these
    ``variants`` and ``cells`` are retrained with each of ``seeds`` besides ``[train] seed``
    (:mod:`musiclib.chapters.generation.replicates`). No seeds = no replicates."""

    seeds: tuple[int, ...] = ()
    variants: tuple[str, ...] = ()
    cells: tuple[str, ...] = ()


@dataclass(frozen=True)
class EmbeddingSettings:
    """The embedding tests of chapter 4 (optional section ``[embeddings]``).

    ``n_permutations``: shuffles per neighbour-relation test; Holm's correction over a family of
    m tests needs at least m / alpha of them for any test to reach alpha (a pitch variant's
    trained embedding: 54 tests, 1,080 shuffles), see
    :func:`musiclib.measures.embedding_tests.relation_tests`; also the sign flips and bootstrap
    resamples of the control-vs-DB12 test. ``perplexities`` and ``tsne_seeds``: the t-SNE layouts
    of the stability check (every combination; distinct seeds, each a random start; a
    perplexity above (tokens - 1) / 3 is clipped to that cap, so keep them below it);
    ``map_perplexity``: the perplexity of the t-SNE maps shown (PCA start).
    """

    n_permutations: int = 5000
    perplexities: tuple[int, ...] = (4, 8, 12)
    tsne_seeds: tuple[int, ...] = (0, 1, 2)
    map_perplexity: int = 10


@dataclass(frozen=True)
class Profile:
    """A loaded profile, one settings object per TOML section.

    ``train`` is a :class:`musiclib.models.settings.TrainConfig` whose settings may map dataset
    variants to values (``num_epochs = { control = 10, db12 = 2 }``); its ``for_variant`` gives a
    run's settings, and the grid sets each run's variant, cell and layer count.

    ``name`` (the file's stem, plus a data-source suffix when the source is overridden) is also
    the folder of the profile's runs under ``runs_dir``.
    """

    name: str
    description: str
    data: DataSettings
    grid: GridSettings
    train: TrainConfig
    generation: GenerationSettings
    cross_entropy: CrossEntropySettings
    replicates: ReplicateSettings = ReplicateSettings()
    cluster: ClusterSettings = ClusterSettings()
    embeddings: EmbeddingSettings = EmbeddingSettings()


# sections that may be left out (their defaults apply)
_OPTIONAL_SECTIONS = {"replicates": ReplicateSettings, "cluster": ClusterSettings, "embeddings": EmbeddingSettings}
_SECTIONS = {
    "data": DataSettings,
    "grid": GridSettings,
    "train": TrainConfig,
    "generation": GenerationSettings,
    "cross_entropy": CrossEntropySettings,
}


def load_profile(name_or_path: str | Path, *, data_source: str | None = None) -> Profile:
    """Load and check a profile.

    Parameters
    ----------
    name_or_path : str or path
        A bundled profile name (one of :data:`PROFILES`) or the path of a ``.toml`` file.
    data_source : str, optional
        A bundled corpus name or a folder/pickle path that replaces the profile's
        ``[data] source``; the profile's name then gets a suffix naming that source, so its runs
        do not mix with runs on other data.

    Returns
    -------
    Profile
        The settings, every value checked.

    Raises
    ------
    ProfileError
        For an unknown profile, a missing file, invalid TOML, a missing or unknown setting or a
        value of the wrong type or range; the message names the file and the setting.
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
    unknown = set(document) - set(_SECTIONS) - set(_OPTIONAL_SECTIONS) - {"description"}
    if unknown:
        raise ProfileError(
            f"profile file {path}: unknown section(s) {sorted(unknown)}; "
            f"expected description and [{'], ['.join(_SECTIONS)}]"
        )
    sections = {
        section: _read_section(path, section, cls, document.get(section))
        for section, cls in _SECTIONS.items()
    }
    sections.update(
        (section, _read_section(path, section, cls, document[section]))
        for section, cls in _OPTIONAL_SECTIONS.items()
        if section in document
    )
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
    if not isinstance(values, dict):
        raise ProfileError(f"{where} is missing")
    hints = get_type_hints(cls)
    required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
    unknown = set(values) - set(hints)
    if unknown:
        raise ProfileError(f"{where}: unknown setting(s) {sorted(unknown)}; known: {sorted(hints)}")
    missing = required - set(values)
    if missing:
        raise ProfileError(f"{where}: missing setting(s) {sorted(missing)}")
    if cls is TrainConfig:  # checks its own types and values
        set_by_grid = sorted(set(values) & set(RUN_SETTINGS))
        if set_by_grid:
            raise ProfileError(f"{where}: {set_by_grid} are set by [grid] and [cross_entropy], not here")
        try:
            return TrainConfig(**values)
        except TrainingError as error:
            raise ProfileError(f"{where}: {error}") from None
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
    if expected in (int | None, str | None, float | None):
        kind = expected.__args__[0]
        ok = _is_scalar(value, kind)
        return ok, float(value) if ok and kind is float else value
    if expected in (tuple[str, ...], tuple[int, ...]):
        kind = expected.__args__[0]
        ok = isinstance(value, list) and bool(value) and all(_is_scalar(item, kind) for item in value)
        return ok, tuple(value) if ok else value
    if expected == int | dict[str, int]:  # one number, or one per variant
        if isinstance(value, dict):
            return all(_is_scalar(item, int) for item in value.values()), dict(value)
        return _is_scalar(value, int), value
    if expected == dict[str, tuple[int, ...]]:  # per variant, a list of numbers
        converted = {key: _convert(item, tuple[int, ...]) for key, item in value.items()} if isinstance(value, dict) else {}
        ok = isinstance(value, dict) and all(item_ok for item_ok, _ in converted.values())
        return ok, {key: item for key, (_, item) in converted.items()} if ok else value
    if expected == dict[str, tuple[int, ...] | dict[str, tuple[int, ...]]]:  # per variant, a list or one per cell
        if not isinstance(value, dict):
            return False, value
        converted = {
            key: _convert(item, dict[str, tuple[int, ...]] if isinstance(item, dict) else tuple[int, ...])
            for key, item in value.items()
        }
        ok = all(item_ok for item_ok, _ in converted.values())
        return ok, {key: item for key, (_, item) in converted.items()} if ok else value
    raise TypeError(f"no profile conversion for {expected}")


def _is_scalar(value: Any, kind: type) -> bool:
    """Is ``value`` a TOML ``kind`` (an int also counts as a float; a bool never as a number)?"""
    accepted = (int, float) if kind is float else (kind,)
    return isinstance(value, accepted) and not isinstance(value, bool)


def _check_values(path: Path, profile: Profile) -> None:
    """Value checks across sections (names known to musiclib, positive sizes)."""
    from musiclib.data.sequences import VARIANTS
    from musiclib.models.network import CELLS

    grid, epochs = profile.grid, profile.train.num_epochs
    checks = [
        ("grid.variants", set(grid.variants) <= set(VARIANTS), f"each one of {VARIANTS}"),
        ("grid.cells", set(grid.cells) <= set(CELLS), f"each one of {CELLS}"),
        ("grid.layers", all(n >= 1 for n in grid.layers), "layer counts >= 1"),
        ("grid.workers", grid.workers >= 1, ">= 1"),
        (
            "grid.seeds",
            min(grid.seeds.values(), default=1) >= 1 and set(grid.seeds) <= set(grid.variants)
            if isinstance(grid.seeds, dict) else grid.seeds >= 1,
            f"a seed count >= 1, or one per variant of {grid.variants}",
        ),
        (
            "grid.layers_with_seeds",
            set(grid.layers_with_seeds) <= set(grid.variants)
            and all(
                set(by_cell) <= set(grid.cells) and all(set(layers) <= set(grid.layers) for layers in by_cell.values())
                if isinstance(by_cell, dict) else set(by_cell) <= set(grid.layers)
                for by_cell in grid.layers_with_seeds.values()
            ),
            f"layer counts of {grid.layers} per variant of {grid.variants}, or per cell of {grid.cells} in a variant",
        ),
        ("grid.seed_margin", grid.seed_margin is None or grid.seed_margin > 0, "> 0 nats per note"),
        ("replicates.variants", set(profile.replicates.variants) <= set(grid.variants), f"each one of {grid.variants}"),
        ("replicates.cells", set(profile.replicates.cells) <= set(grid.cells), f"each one of {grid.cells}"),
        ("replicates.seeds", all(seed >= 0 for seed in profile.replicates.seeds), "seeds >= 0"),
        (
            "embeddings",
            profile.embeddings.n_permutations >= 1
            and min(*profile.embeddings.perplexities, profile.embeddings.map_perplexity) >= 1
            and min(profile.embeddings.tsne_seeds) >= 0
            and len(set(profile.embeddings.tsne_seeds)) == len(profile.embeddings.tsne_seeds),
            "n_permutations, perplexities, map_perplexity >= 1 and tsne_seeds distinct and >= 0",
        ),
        ("cross_entropy.variant", profile.cross_entropy.variant in VARIANTS, f"one of {VARIANTS}"),
        ("cross_entropy.cell", profile.cross_entropy.cell in CELLS, f"one of {CELLS}"),
        (
            "cross_entropy.seeds",
            len(set(profile.cross_entropy.seeds)) == len(profile.cross_entropy.seeds) >= 2
            and min(profile.cross_entropy.seeds) >= 0,
            "at least 2 distinct seeds >= 0",
        ),
        (
            "cross_entropy.batch_size and num_epochs",
            min(profile.cross_entropy.batch_size, profile.cross_entropy.num_epochs) >= 1,
            ">= 1",
        ),
        (
            "train.num_epochs",
            not isinstance(epochs, dict) or set(grid.variants) <= set(epochs),
            f"one number, or epochs for every variant in {grid.variants}",
        ),
        (
            "sizes",
            min(profile.generation.n_songs, profile.generation.n_notes) >= 1
            and (profile.data.max_songs is None or profile.data.max_songs >= 1),
            "n_songs, n_notes, max_songs >= 1",
        ),
    ]
    for setting, ok, expectation in checks:
        if not ok:
            raise ProfileError(f"profile file {path}: {setting} must be {expectation}")


def _source_label(data_source: str | Path) -> str:
    """A folder-name-safe label for a data source: the corpus name, or a path's name + hash."""
    from musiclib.data.corpus import BUNDLED_CORPORA

    if str(data_source) in BUNDLED_CORPORA:
        return str(data_source)
    resolved = str(Path(data_source).expanduser().resolve())
    digest = hashlib.sha1(resolved.encode("utf-8")).hexdigest()[:8]
    stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in Path(resolved).stem)
    return f"{stem}-{digest}"


def warm_up_epochs(profile: Profile) -> str:
    """``[train] min_epochs`` of the grid's variants for people, e.g. ``"10 control / 1 db12"``; ``""`` when none is set."""
    epochs = profile.train.per_variant("min_epochs", profile.grid.variants)
    return " / ".join(f"{count} {variant}" for variant, count in epochs.items() if count > 0)


def restart_rule(profile: Profile) -> str:
    """The restart rule for people (``[train] plateau_budget``, ``max_restarts``), e.g. ``"a run still
    on the unigram plateau after 10 control / 1 db12 epochs starts over from a new seed (at most
    once)"``; ``""`` when the profile sets no plateau budget or no restart."""
    train = profile.train
    budgets = train.per_variant("plateau_budget", profile.grid.variants)
    if not any(budgets.values()) or train.max_restarts == 0:
        return ""
    times = "once" if train.max_restarts == 1 else f"{train.max_restarts} times"
    return (
        f"a run still on the unigram plateau after {' / '.join(f'{n} {variant}' for variant, n in budgets.items())} "
        f"epochs starts over from a new seed (at most {times})"
    )
