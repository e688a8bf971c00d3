"""The playground's library functions, without a browser: runs, seeds, composing, the result view."""

import os
import shutil
from pathlib import Path

import pytest

from musiclib.chapters.playground.composer import (
    DEFAULT_SEEDS,
    EDITION_MANIFEST,
    Playground,
    RunInfo,
    SeedError,
    available_runs,
    ensure_run,
    gallery,
    list_runs,
    models_line,
    parse_pitch,
    parse_seed,
    pick_run,
)
from musiclib.chapters.playground.ui import KEYBOARD, edit_seed, playground_ui
from musiclib.data.sequences import Vocabulary, prepare_variant, split_melodies
from musiclib.models.train import COMPLETE_FILE, TrainConfig, train

PITCHES = Vocabulary(range(55, 80))
STEPS = Vocabulary(range(-7, 8))


@pytest.mark.parametrize(
    "token, pitch", [("C4", 60), ("D#4", 63), ("Bb3", 58), ("c5", 72), ("C-1", 0), ("G9", 127), ("64", 64)]
)
def test_note_names_and_numbers(token, pitch):
    assert parse_pitch(token) == pitch


@pytest.mark.parametrize(
    "text, variant, vocab, expected",
    [
        ("C4 D4 E4 D4", "control", PITCHES, [60, 62, 64, 62]),
        ("60, 62 64 62", "db12", PITCHES, [60, 62, 64, 62]),
        ("C4 +2 +2 -2", "interval", STEPS, [60, 2, 2, -2]),
        ("60 2 2 -2", "interval", STEPS, [60, 2, 2, -2]),
        ("C4 D4 E4 D4", "interval", STEPS, [60, 2, 2, -2]),
    ],
)
def test_seeds_become_the_tokens_generate_takes(text, variant, vocab, expected):
    assert parse_seed(text, variant, vocab) == expected


@pytest.mark.parametrize(
    "text, variant, vocab, message",
    [
        ("C4 H4", "control", PITCHES, "'H4' is not a note name"),
        ("C4 E#", "control", PITCHES, "'E#' is not a note name"),
        ("C4 200", "control", PITCHES, "pitch 200, outside MIDI 0..127"),
        ("C4 A5", "control", PITCHES, r"note A5 \(81\) is not in this model's vocabulary \(55..79"),
        ("", "control", PITCHES, "the seed is empty"),
        ("C4 +2 +9", "interval", STEPS, r"step \+9 \(9\) is not in this model's vocabulary \(-7..7"),
        ("C4", "interval", STEPS, "a start pitch then at least one step"),
        ("C4 up", "interval", STEPS, "'up' is not a whole number of semitones"),
        ("G9 +2", "interval", STEPS, "outside MIDI 0..127"),
    ],
)
def test_bad_seeds_are_clear_errors(text, variant, vocab, message):
    with pytest.raises(SeedError, match=message):
        parse_seed(text, variant, vocab)


@pytest.fixture(scope="module")
def runs(essen_slice, tmp_path_factory):
    """A tiny finished control run under runs/quick/control/lstm-1, and a copy of it made later
    under runs/smoke/control/lstm-2 (its config says 2 layers) so that the copy is the newest."""
    runs_dir = tmp_path_factory.mktemp("runs")
    splits = split_melodies(essen_slice.melodies)
    config = TrainConfig(num_layers=1, rnn_size=16, batch_size=16, seq_length=16, num_epochs=1)
    train(config, prepare_variant(splits, "control"), runs_dir / "quick" / "control" / "lstm-1", progress=False)
    newer = runs_dir / "smoke" / "control" / "lstm-2"
    shutil.copytree(runs_dir / "quick" / "control" / "lstm-1", newer)
    config_file = newer / "config.json"
    config_file.write_text(config_file.read_text().replace('"num_layers": 1', '"num_layers": 2'))
    marker = newer / COMPLETE_FILE
    os.utime(marker, (marker.stat().st_mtime + 60,) * 2)
    return runs_dir, splits.train


@pytest.mark.slow
def test_finished_runs_are_listed_newest_first_with_labels(runs, tmp_path):
    runs_dir, _ = runs
    assert [info.label for info in list_runs(runs_dir)] == [
        "smoke: control lstm, 2 layers",
        "quick: control lstm, 1 layer",
    ]
    assert list_runs(tmp_path / "missing") == []
    study = tmp_path / "runs" / "quick" / "cross_entropy" / "lstm-1"
    shutil.copytree(runs_dir / "quick" / "control" / "lstm-1", study)
    assert [info.label for info in list_runs(tmp_path / "runs")] == ["quick: control lstm, 1 layer (cross_entropy)"]
    assert pick_run(list_runs(runs_dir), "quick").label == "quick: control lstm, 1 layer"
    assert pick_run(list_runs(runs_dir), "paper").label == "smoke: control lstm, 2 layers"
    with pytest.raises(ValueError, match="no finished run"):
        pick_run([])


def test_pick_run_prefers_a_grid_run_to_a_newer_run_of_another_study():
    def run(path, variant, finished, loss=None):
        return RunInfo(Path("runs/study", path), "study", variant, "lstm", 2, finished, best_val_loss=loss)

    newest_first = [
        run("cross_entropy/lstm-2-seed-2", "control", 3.0, 1.5),
        run("db12/lstm-2", "db12", 2.0, 1.6),
        run("control/lstm-3", "control", 1.5, 1.72),
        run("control/lstm-2", "control", 1.0, 1.69),
        run("control/lstm-1", "control", 0.0),
    ]
    assert pick_run(newest_first, "study").run_dir == Path("runs/study/control/lstm-2")  # lowest loss of the grid's control runs
    assert pick_run([newest_first[-1], newest_first[2]], "study").run_dir == Path("runs/study/control/lstm-3")
    assert pick_run(newest_first[:2], "study").run_dir == Path("runs/study/db12/lstm-2")
    assert pick_run(newest_first[:1], "study").label == "study: control lstm, 2 layers (cross_entropy)"
    assert not newest_first[0].in_grid and newest_first[1].in_grid


@pytest.fixture(scope="module")
def playground(runs):
    runs_dir, training = runs
    return Playground(runs_dir, training=training)


@pytest.mark.slow
def test_composing_is_deterministic_for_a_random_seed(playground):
    run = playground.runs()[-1]
    first = playground.compose(run, "C4 D4 E4 D4", n_notes=20, temperature=1.2, random_seed=3)
    again = playground.compose(run, "C4 D4 E4 D4", n_notes=20, temperature=1.2, random_seed=3)
    other = playground.compose(run, "C4 D4 E4 D4", n_notes=20, temperature=1.2, random_seed=4)
    assert first.pitches == again.pitches != other.pitches
    assert len(first.pitches) == 24 and first.pitches[:4] == [60, 62, 64, 62] and first.seed_notes == 4
    argmax = playground.compose(run, "C4 D4 E4 D4", n_notes=20, method="argmax", random_seed=1)
    assert argmax.pitches == playground.compose(run, "C4 D4 E4 D4", n_notes=20, method="argmax", random_seed=2).pitches


@pytest.mark.slow
def test_a_composition_is_placed_among_the_training_songs(playground):
    composition = playground.compose(playground.runs()[0], "60 62 64 62", n_notes=30, random_seed=0)
    assert set(composition.metrics) == {"CMM", "LM", "CENTR"}
    assert all(0 <= value <= 100 for value in composition.percentiles.values())
    assert composition.copy.notes >= 2 and composition.copy.song_id.startswith("essen/")
    assert composition.memorisation_line().startswith("longest copied stretch:")
    page = composition._repr_html_()
    assert "<svg" in page and 'class="musiclib-memorisation"' in page and "percentile among training songs" in page
    assert "Download the MIDI file" in page


@pytest.mark.slow
def test_compose_refuses_a_seed_outside_the_vocabulary(playground):
    with pytest.raises(SeedError, match="not in this model's vocabulary"):
        playground.compose(playground.runs()[0], "C0 D0")
    with pytest.raises(ValueError, match="method"):
        playground.compose(playground.runs()[0], "C4", method="max")


@pytest.mark.slow
def test_gallery_and_widgets(playground):
    run = playground.runs()[0]
    pieces = gallery(playground, run, [{"random_seed": 0}, {"temperature": 0.5, "random_seed": 1}])
    assert [piece.pitches[:4] for piece in pieces] == [[60, 62, 64, 62]] * 2
    ui = playground_ui(playground)
    run_menu, seed = ui.children[:2]
    assert seed.value == DEFAULT_SEEDS["control"] and run_menu.value == run
    compose = [child for child in ui.children if "musiclib-compose" in child._dom_classes]
    assert len(compose) == 1
    keyboard = [child for child in ui.children if "musiclib-keyboard" in child._dom_classes][0]
    keyboard.children[KEYBOARD.index("G4")].click()
    assert seed.value == "C4 D4 E4 D4 G4"
    with pytest.raises(ValueError, match="no finished run"):
        playground_ui(Playground(playground.runs_dir / "none"))


def test_the_seed_keyboard_edits_the_seed_text():
    assert edit_seed("C4 D4", "F#4") == "C4 D4 F#4"
    assert edit_seed("C4, D4", "delete") == "C4"
    assert edit_seed("", "delete") == ""
    assert edit_seed("C4 D4", "clear") == ""
    with pytest.raises(ValueError, match="not one of"):
        edit_seed("C4", "H4")


@pytest.fixture(scope="module")
def edition_models(tiny, tmp_path_factory):
    """The tiny grid's selected models published as an edition's ``models/`` folder."""
    from musiclib.book.edition import write_edition_models
    from musiclib.experiments.selection import select_layers

    _, _, _, result = tiny
    models_dir = tmp_path_factory.mktemp("edition") / "models"
    write_edition_models(models_dir, "tiny", result, select_layers(result))
    return models_dir


def test_the_playground_knows_the_editions_manifest_by_its_name():
    from musiclib.book.edition import MANIFEST_FILE

    assert EDITION_MANIFEST == MANIFEST_FILE


def test_no_runs_and_no_edition_models_offer_nothing(tmp_path):
    assert available_runs(tmp_path / "runs", tmp_path / "book" / "edition" / "models") == []
    assert available_runs(tmp_path / "runs") == []


def test_the_models_line_says_where_the_models_come_from(tmp_path):
    run = RunInfo(tmp_path / "quick" / "control" / "lstm-1", "quick", "control", "lstm", 1, 0.0)
    published = RunInfo(tmp_path / "models" / "control-nas-2", "study", "control", "nas", 2, 0.0, published=True)
    assert models_line([run], run, tmp_path / "runs") == (
        "1 finished run(s) in `runs/`; the gallery uses **quick: control lstm, 1 layer**.")
    assert models_line([published], published, tmp_path / "runs") == (
        "No finished run in `runs/`: the 1 selected models of the published study edition; the gallery uses "
        "**study edition: control nas, 2 layers**.")


@pytest.mark.slow
def test_without_runs_the_playground_composes_with_the_editions_models_without_training(
    tiny, edition_models, essen_slice, tmp_path
):
    from musiclib.experiments.selection import select_layers, selected_runs

    _, _, _, result = tiny
    empty_runs = tmp_path / "runs"
    offered = ensure_run(empty_runs, models_dir=edition_models, progress=False)
    assert not empty_runs.exists()  # nothing trained
    assert sorted((info.profile, info.cell, info.published) for info in offered) == [
        ("tiny", "lstm", True), ("tiny", "ugrnn", True)]
    assert all(info.label.startswith(f"tiny edition: control {info.cell}, ") for info in offered)
    studio = Playground(empty_runs, models_dir=edition_models, training=essen_slice.melodies[:50])
    assert studio.runs() == offered
    runs = selected_runs(result, select_layers(result))
    for info in offered:
        original = runs[(info.variant, info.cell)]
        assert info.num_layers == original.config.num_layers
        composed = studio.compose(info, "C4 D4 E4 D4", n_notes=12, random_seed=4).pitches
        from_run = Playground(original.run_dir.parent, training=essen_slice.melodies[:50])
        source = next(run for run in from_run.runs() if run.run_dir == original.run_dir)
        assert composed == from_run.compose(source, "C4 D4 E4 D4", n_notes=12, random_seed=4).pitches


@pytest.mark.slow
def test_finished_runs_come_before_the_editions_models(runs, edition_models):
    runs_dir, _ = runs
    assert [info.profile for info in available_runs(runs_dir, edition_models)] == ["smoke", "quick"]
    assert all(info.published for info in available_runs(runs_dir / "none", edition_models))
