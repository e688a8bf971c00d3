"""The composing playground behind ``notebooks/06_playground.ipynb``: pick a trained run, type a seed,
compose, and see, hear and judge the result.

Which models it offers (:func:`available_runs`): the finished runs of the runs folder; when there
are none (a fresh clone), the selected models of the published edition (``book/edition/models/``);
when the edition has none either, :func:`ensure_run` first trains a small model of its own.

Everything here works without a browser (and is tested so); :func:`musiclib.chapters.playground.ui.playground_ui`
only wires these functions to ipywidgets controls.

Units: pitches are MIDI numbers (60 = C4), steps and intervals semitones, temperature divides the
logits, notes count generated notes after the seed.

Notebook: 06_playground.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
from scipy import stats

from musiclib.data.corpus import load_corpus
from musiclib.data.sequences import (
    MIDI_RANGE,
    VARIANTS,
    Melody,
    note_name,
    split_melodies,
)
from musiclib.measures.memorisation import TrainingIndex
from musiclib.measures.metrics import METRICS, evaluate
from musiclib.models.generate import METHODS, generate
from musiclib.outputs.render import show_melody

PLAYGROUND_PROFILE = "smoke"
"""Profile whose data trains the playground's own small model (and judges runs of unknown profiles)."""

PLAYGROUND_RUN = Path("playground") / "control" / "lstm-1"
"""Where, under the runs folder, the playground trains its small model when there is no finished run."""

PLAYGROUND_TRAINING = {"rnn_size": 64, "num_epochs": 30}
"""The small model: the smoke profile's one-layer LSTM, wider and trained longer (well under 2 minutes)."""

EDITION_MANIFEST = "manifest.json"
"""The file that marks a model of the published edition and names its profile (written by
``musiclib.book.edition.write_edition_models``, whose ``MANIFEST_FILE`` it is)."""

DEFAULT_SEEDS = {"control": "C4 D4 E4 D4", "db12": "C4 D4 E4 D4", "interval": "C4 +2 +2 -2"}
"""The paper's seed per variant, written as the playground's seed text."""

_NOTE = re.compile(r"^([A-Ga-g])([#b]?)(-?\d+)$")
_PITCH_CLASSES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


class SeedError(ValueError):
    """A seed the model cannot start from; the message names the bad token and what is allowed."""


@dataclass(frozen=True)
class RunInfo:
    """A finished run found under a runs folder.

    Attributes
    ----------
    run_dir : pathlib.Path
        Its folder.
    profile : str
        The profile folder it lies in (``runs/<profile>/<variant>/<cell>-<layers>``).
    variant, cell : str
        Its data variant and recurrent cell.
    num_layers : int
        Stacked recurrent layers.
    finished : float
        When it finished (seconds since the epoch, the completion marker's modification time).
    published : bool
        A model of the published edition (``book/edition/models/``), not a run of the runs folder.
    best_val_loss : float or None
        Its lowest validation loss, nats per note (``complete.json``; None when not recorded).
    """

    run_dir: Path
    profile: str
    variant: str
    cell: str
    num_layers: int
    finished: float
    published: bool = False
    best_val_loss: float | None = None

    @property
    def in_grid(self) -> bool:
        """A run of the layer grid (in its variant's or profile's folder), not of a study with a folder
        of its own (such as the cross-entropy study's ``cross_entropy/``)."""
        return self.run_dir.parent.name in (self.variant, self.profile)

    @property
    def label(self) -> str:
        """E.g. ``"quick: control lstm, 2 layers"``; a run outside its variant's folder (such as the
        cross-entropy study's) names its folder: ``"quick: control lstm, 2 layers (cross_entropy)"``; a
        model of the published edition says so: ``"study edition: control lstm, 1 layer"``."""
        layers = f"{self.num_layers} layer{'s' if self.num_layers != 1 else ''}"
        if self.published:
            return f"{self.profile} edition: {self.variant} {self.cell}, {layers}"
        study = "" if self.in_grid else f" ({self.run_dir.parent.name})"
        return f"{self.profile}: {self.variant} {self.cell}, {layers}{study}"


def list_runs(runs_dir: str | Path) -> list[RunInfo]:
    """Every finished run under ``runs_dir`` (any depth), newest first.

    Parameters
    ----------
    runs_dir : path-like
        The runs folder (a missing folder holds no runs).

    Returns
    -------
    list of RunInfo
        Newest first; runs whose settings file cannot be read are left out. A run whose folder holds
        an :data:`EDITION_MANIFEST` is a model of the published edition, of the manifest's profile.
    """
    from musiclib.models.train import COMPLETE_FILE, CONFIG_FILE

    runs_dir = Path(runs_dir)
    found = []
    for marker in runs_dir.rglob(COMPLETE_FILE) if runs_dir.is_dir() else ():
        run_dir = marker.parent
        parts = run_dir.relative_to(runs_dir).parts
        profile = parts[0] if len(parts) > 2 else runs_dir.name
        try:
            config = json.loads((run_dir / CONFIG_FILE).read_text())
            variant, cell, num_layers = config["variant"], config["model"], int(config["num_layers"])
            published = (run_dir / EDITION_MANIFEST).is_file()
            if published:
                profile = json.loads((run_dir / EDITION_MANIFEST).read_text())["profile"]
            best_val_loss = json.loads(marker.read_text()).get("best_val_loss")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        found.append(
            RunInfo(run_dir, profile, variant, cell, num_layers, marker.stat().st_mtime, published, best_val_loss)
        )
    return sorted(found, key=lambda run: (-run.finished, str(run.run_dir)))


def available_runs(runs_dir: str | Path, models_dir: str | Path | None = None) -> list[RunInfo]:
    """The models the playground offers: the finished runs under ``runs_dir``, else those of the
    published edition in ``models_dir``.

    Parameters
    ----------
    runs_dir : path-like
        The runs folder.
    models_dir : path-like, optional
        The published edition's models (``book/edition/models``; missing before the first edition
        that ships them).

    Returns
    -------
    list of RunInfo
        Newest first (see :func:`list_runs`); empty when neither folder holds a model.
    """
    return list_runs(runs_dir) or (list_runs(models_dir) if models_dir is not None else [])


def pick_run(runs: list[RunInfo], profile: str | None = None) -> RunInfo:
    """The gallery's model among ``runs`` made with ``profile`` (all ``runs`` when none is): a run of
    the layer grid (:attr:`RunInfo.in_grid`: not, say, an overfitted run of the cross-entropy study)
    before others, the control variant before others, then the lowest validation loss (runs without
    one last), then the newest.

    Raises
    ------
    ValueError
        ``runs`` is empty.
    """
    if not runs:
        raise ValueError("there is no finished run to pick; call ensure_run first")
    of_profile = [run for run in runs if run.profile == profile] or runs

    def preference(run: RunInfo) -> tuple:
        loss = run.best_val_loss if run.best_val_loss is not None else math.inf
        return not run.in_grid, run.variant != "control", loss

    return min(of_profile, key=preference)  # the first of the best: runs come newest first


def models_line(runs: list[RunInfo], chosen: RunInfo, runs_dir: str | Path) -> str:
    """The sentence under the playground's title: which models it offers and which the gallery uses.

    Parameters
    ----------
    runs : list of RunInfo
        The models offered (:func:`ensure_run`).
    chosen : RunInfo
        The gallery's model (:func:`pick_run`).
    runs_dir : path-like
        The runs folder.

    Returns
    -------
    str
        Markdown, e.g. ``"3 finished run(s) in `runs/`; the gallery uses **quick: control lstm, 1 layer**."``
        or, with the published edition's models, ``"No finished run in `runs/`: the 9 selected models of
        the published study edition; the gallery uses ..."``.
    """
    if runs and all(run.published for run in runs):
        offered = (
            f"No finished run in `{Path(runs_dir).name}/`: the {len(runs)} selected models of the published "
            f"{runs[0].profile} edition"
        )
    else:
        offered = f"{len(runs)} finished run(s) in `{Path(runs_dir).name}/`"
    return f"{offered}; the gallery uses **{chosen.label}**."


def ensure_run(runs_dir: str | Path, *, models_dir: str | Path | None = None, progress: bool = True) -> list[RunInfo]:
    """The models the playground offers (:func:`available_runs`); when there are none, first train
    the playground's small model with a progress bar.

    Parameters
    ----------
    runs_dir : path-like
        The runs folder; the small model goes to ``runs_dir /`` :data:`PLAYGROUND_RUN`.
    models_dir : path-like, optional
        The published edition's models, offered when ``runs_dir`` holds no finished run.
    progress : bool
        Show the training progress bar.

    Returns
    -------
    list of RunInfo
        Newest first (see :func:`list_runs`).

    Notes
    -----
    The small model is the :data:`PLAYGROUND_PROFILE` profile's one-layer LSTM with
    :data:`PLAYGROUND_TRAINING`; on its 120 songs it trains in about 10 seconds on 2 cores (the
    first load of the corpus parses its files once, 10 to 30 seconds more).
    """
    runs = available_runs(runs_dir, models_dir)
    if runs:
        return runs
    from musiclib.data.sequences import prepare_variant
    from musiclib.experiments.grid import GridPoint, train_config
    from musiclib.experiments.profiles import load_profile
    from musiclib.models.train import train

    profile = load_profile(PLAYGROUND_PROFILE)
    point = GridPoint("control", "lstm", 1)
    config = replace(train_config(profile, point), **PLAYGROUND_TRAINING)
    variant_data = prepare_variant(corpus_splits(PLAYGROUND_PROFILE), point.variant)
    train(config, variant_data, Path(runs_dir) / PLAYGROUND_RUN, progress=progress)
    return list_runs(runs_dir)


def corpus_splits(profile: str, data_source: str | Path | None = None):
    """The train / validation / test split of the profile's corpus.

    Parameters
    ----------
    profile : str
        A profile name or file (see ``musiclib.experiments.profiles.load_profile``).
    data_source : str, path-like or None
        Another corpus (a name, a folder or a pickle) read with the profile's song filters.

    Returns
    -------
    musiclib.data.sequences.Splits
        The melodies of each split.
    """
    from musiclib.experiments.profiles import load_profile

    settings = load_profile(profile, data_source=data_source).data
    corpus = load_corpus(settings.source, min_notes=settings.min_notes, max_songs=settings.max_songs, progress=False)
    return split_melodies(corpus.melodies)


# --------------------------------------------------------------------------------------------
# Seeds


def parse_pitch(token: str) -> int:
    """The MIDI number of a note name (``C4`` = 60, ``D#4`` = 63, ``Bb3`` = 58) or of a number.

    Raises
    ------
    SeedError
        Neither a note name nor an integer, or outside MIDI 0..127.
    """
    match = _NOTE.match(token)
    if match:
        letter, accidental, octave = match.groups()
        pitch = 12 * (int(octave) + 1) + _PITCH_CLASSES[letter.upper()] + {"#": 1, "b": -1, "": 0}[accidental]
    else:
        try:
            pitch = int(token)
        except ValueError:
            raise SeedError(
                f"seed note {token!r} is not a note name (a letter A-G, an optional # or b, an octave: C4, D#4, "
                "Bb3) or a MIDI number (60 = C4)"
            ) from None
    if pitch not in MIDI_RANGE:
        raise SeedError(f"seed note {token!r} is pitch {pitch}, outside MIDI 0..127")
    return pitch


def parse_seed(text: str, variant: str, vocab) -> list[int]:
    """The tokens :func:`musiclib.models.generate.generate` takes, from a seed a reader typed.

    Parameters
    ----------
    text : str
        Notes separated by spaces or commas: note names (``C4 D#4 Bb3``) or MIDI numbers
        (``60 63 58``). For an interval model, either a start pitch then steps in semitones
        (``C4 +2 +2 -2`` or ``60 2 2 -2``) or notes only (``C4 D4 E4 D4``, turned into steps).
    variant : str
        The model's data variant (control, interval or db12).
    vocab : musiclib.data.sequences.Vocabulary
        The model's vocabulary (pitches, or steps for interval).

    Returns
    -------
    list of int
        MIDI pitches; for interval, the start pitch then the steps.

    Raises
    ------
    SeedError
        Empty seed, a bad note name, a pitch outside MIDI 0..127, a step leaving it, a note or step
        the model's vocabulary lacks (the message gives the vocabulary's range), or an interval
        seed with no step.
    """
    if variant not in VARIANTS:
        raise SeedError(f"variant {variant!r} is not one of {', '.join(VARIANTS)}")
    tokens = text.replace(",", " ").split()
    if not tokens:
        raise SeedError(f"the seed is empty; type notes such as {DEFAULT_SEEDS[variant]!r}")
    notes_only = len(tokens) > 1 and all(_NOTE.match(token) for token in tokens[1:])
    if variant != "interval" or notes_only:
        pitches = [parse_pitch(token) for token in tokens]
        if variant != "interval":
            _check_vocabulary(pitches, vocab, [note_name(pitch) for pitch in pitches], "note")
            return pitches
        steps = [later - earlier for earlier, later in itertools.pairwise(pitches)]
    else:
        if len(tokens) < 2:
            raise SeedError(
                f"an interval model's seed is a start pitch then at least one step, e.g. {DEFAULT_SEEDS['interval']!r}"
            )
        pitches = [parse_pitch(tokens[0])]
        steps = []
        for token in tokens[1:]:
            try:
                steps.append(int(token))
            except ValueError:
                raise SeedError(
                    f"seed step {token!r} is not a whole number of semitones; after the start pitch give steps "
                    f"(+2 -1 ...) or give notes only (C4 D4 E4 D4)"
                ) from None
            pitches.append(pitches[-1] + steps[-1])
            if pitches[-1] not in MIDI_RANGE:
                raise SeedError(f"seed step {token} takes the melody to pitch {pitches[-1]}, outside MIDI 0..127")
    _check_vocabulary(steps, vocab, [f"{step:+d}" for step in steps], "step")
    return [pitches[0], *steps]


def _check_vocabulary(tokens: list[int], vocab, labels: list[str], kind: str) -> None:
    for token, label in zip(tokens, labels):
        if token not in vocab:
            known = vocab.tokens
            span = f"{known[0]}..{known[-1]}" if known else "none"
            raise SeedError(
                f"seed {kind} {label} ({token}) is not in this model's vocabulary ({span}, {len(known)} tokens); "
                f"choose {kind}s the model was trained on"
            )


# --------------------------------------------------------------------------------------------
# References and compositions


@dataclass
class Reference:
    """The training songs a composition is judged against: their metric distribution and an index
    for the memorisation check."""

    name: str
    metrics: pd.DataFrame
    index: TrainingIndex

    @classmethod
    def from_melodies(cls, melodies: list[Melody], name: str) -> Reference:
        """Score ``melodies`` (CMM, LM, CENTR) and index them."""
        return cls(name, evaluate(melodies), TrainingIndex(melodies))

    def percentiles(self, values: dict[str, float]) -> dict[str, float]:
        """Per metric, the percentile (0-100) of ``values[metric]`` among the training songs."""
        return {
            metric: float(stats.percentileofscore(self.metrics[metric], values[metric], kind="mean"))
            for metric in METRICS
        }


@dataclass
class Composition:
    """A composed melody with what the playground shows about it.

    Attributes
    ----------
    pitches : list of int
        The melody (MIDI numbers), seed included.
    seed_notes : int
        How many of its first notes are the seed.
    title : str
        What made it (run, seed, temperature, method, random seed).
    metrics : dict
        CMM, LM, CENTR of the melody.
    percentiles : dict
        Each metric's percentile among the training songs (0-100).
    copy : musiclib.measures.memorisation.Copy
        Its longest stretch (transposed) shared with a training song.
    reference : str
        Which training songs it was judged against.
    """

    pitches: list[int]
    seed_notes: int
    title: str
    metrics: dict
    percentiles: dict
    copy: object
    reference: str

    def metrics_table(self) -> pd.DataFrame:
        """One row per metric: the value and its percentile among the training songs."""
        return pd.DataFrame(
            {
                "metric": list(METRICS),
                "value": [self.metrics[metric] for metric in METRICS],
                "percentile among training songs": [self.percentiles[metric] for metric in METRICS],
            }
        )

    def memorisation_line(self) -> str:
        """The memorisation check in one sentence."""
        return self.copy.describe()

    def _repr_html_(self) -> str:
        view = show_melody(self.pitches, title=self.title)
        table = self.metrics_table().to_html(index=False, float_format=lambda value: f"{value:.2f}", classes="dataframe")
        return (
            '<div class="musiclib-composition">'
            f"{view._repr_html_()}"
            f'<p class="musiclib-memorisation">{html.escape(self.memorisation_line())}</p>'
            f"{table}<p><small>Percentiles among {html.escape(self.reference)}.</small></p>"
            "</div>"
        )


class Playground:
    """Trained runs under ``runs_dir`` (else the published edition's models), loaded on demand, and
    the training songs to judge them by.

    Parameters
    ----------
    runs_dir : path-like
        The runs folder.
    models_dir : path-like, optional
        The published edition's models, offered when ``runs_dir`` holds no finished run
        (:func:`available_runs`).
    training : list of musiclib.data.sequences.Melody, optional
        The training songs to judge every run by; by default each run's profile's training split
        (see :meth:`reference`).
    """

    def __init__(
        self, runs_dir: str | Path, *, models_dir: str | Path | None = None, training: list[Melody] | None = None
    ):
        self.runs_dir = Path(runs_dir)
        self.models_dir = Path(models_dir) if models_dir is not None else None
        self._runs: dict[Path, object] = {}
        self._references: dict[str, Reference] = {}
        if training is not None:
            self._references[""] = Reference.from_melodies(list(training), f"the {len(training)} given training songs")

    def runs(self) -> list[RunInfo]:
        """The models offered, newest first (see :func:`available_runs`)."""
        return available_runs(self.runs_dir, self.models_dir)

    def load(self, run_dir: str | Path):
        """The ``train.Run`` in ``run_dir`` (loaded once)."""
        from musiclib.models.train import load_run

        run_dir = Path(run_dir)
        if run_dir not in self._runs:
            self._runs[run_dir] = load_run(run_dir)
        return self._runs[run_dir]

    def reference(self, info: RunInfo) -> Reference:
        """The training split of the run's profile's corpus (:data:`PLAYGROUND_PROFILE` for runs
        of the playground or of a profile that is not a bundled one), scored and indexed once.

        For a model of the ``study`` edition that is all of Essen: its first use parses the corpus
        (about 5 minutes on 2 cores, then cached)."""
        from musiclib.experiments.profiles import PROFILES

        if "" in self._references:
            return self._references[""]
        profile = info.profile if info.profile in PROFILES else PLAYGROUND_PROFILE
        if profile not in self._references:
            training = corpus_splits(profile).train
            self._references[profile] = Reference.from_melodies(
                training, f"the {len(training)} training songs of the {profile} profile"
            )
        return self._references[profile]

    def compose(
        self,
        run: RunInfo,
        seed: str,
        *,
        n_notes: int = 30,
        temperature: float = 1.0,
        method: str = "roulette",
        random_seed: int = 0,
    ) -> Composition:
        """Compose one melody with ``run``; the same arguments give the same melody.

        Parameters
        ----------
        run : RunInfo
            The model.
        seed : str
            The seed as typed (see :func:`parse_seed`).
        n_notes : int
            Notes generated after the seed.
        temperature : float
            Divides the logits (> 0; small: safe and repetitive, large: adventurous).
        method : str
            ``"roulette"`` (sample) or ``"argmax"`` (most likely note).
        random_seed : int
            Seeds the sampling.

        Raises
        ------
        SeedError
            A seed the model cannot start from.
        ValueError
            Bad ``n_notes``, ``temperature`` or ``method`` (from :func:`musiclib.models.generate.generate`).
        """
        if method not in METHODS:
            raise ValueError(f"method {method!r} is not one of {', '.join(METHODS)}")
        model = self.load(run.run_dir)
        tokens = parse_seed(seed, run.variant, model.vocab)
        (pitches,) = generate(
            model, tokens, n_notes=n_notes, n_songs=1, method=method, temperature=temperature, rng=random_seed
        )
        reference = self.reference(run)
        values = evaluate([pitches]).iloc[0].to_dict()
        title = f"{run.label}; seed {seed.strip()}; {method}, temperature {temperature:g}, random seed {random_seed}"
        return Composition(
            pitches=[int(pitch) for pitch in pitches],
            seed_notes=len(pitches) - n_notes,
            title=title,
            metrics=values,
            percentiles=reference.percentiles(values),
            copy=reference.index.longest_copy(pitches, "transposed"),
            reference=reference.name,
        )


GALLERY = ({"method": "roulette", "temperature": 1.0}, {"method": "roulette", "temperature": 0.6}, {"method": "argmax"})
"""The book's gallery: the paper's sampling, a cooler (less random) one, and greedy selection."""


def gallery(playground: Playground, run: RunInfo, settings: list[dict]) -> list[Composition]:
    """Several compositions of one run, for the book's static gallery.

    Parameters
    ----------
    playground : Playground
        Holds the run.
    run : RunInfo
        The model.
    settings : list of dict
        Keyword arguments of :meth:`Playground.compose`, one dict per composition (e.g.
        :data:`GALLERY` with a ``random_seed``); ``seed`` defaults to the paper's seed of the
        run's variant (:data:`DEFAULT_SEEDS`).

    Returns
    -------
    list of Composition
        In the order of ``settings``.
    """
    return [
        playground.compose(run, **{"seed": DEFAULT_SEEDS[run.variant], **setting}) for setting in settings
    ]
