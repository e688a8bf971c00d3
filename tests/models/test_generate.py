"""musiclib.models.generate: batched sampling from tiny real Keras models, and from a run trained on the
Essen slice (the CLI included)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from musiclib.cli import main
from musiclib.data import sequences
from musiclib.data.sequences import UnknownTokenError, Vocabulary, to_intervals
from musiclib.models.generate import PAPER_SEEDS, SONGS_FILE, generate, save_songs
from musiclib.models.network import build_model

PITCHES = Vocabulary(range(48, 85))  # C3..C6
INTERVALS = Vocabulary(range(-7, 8))


def _peaked_model(cell: str, vocab: Vocabulary, seed: int = 0):
    """A 1 x 16 model with large random weights, so its next-note distributions are far from uniform
    and depend on the notes before (an untrained model's are almost uniform)."""
    rng = np.random.default_rng(seed)
    model = build_model(cell, 1, len(vocab), 16)
    model.set_weights([rng.normal(scale=1.0, size=weight.shape).astype("float32") for weight in model.get_weights()])
    return model


@pytest.fixture(scope="module")
def pitch_model():
    return _peaked_model("lstm", PITCHES)


@pytest.fixture(scope="module")
def interval_model():
    return _peaked_model("ugrnn", INTERVALS)


def _softmax(logits):
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


def test_songs_start_with_the_seed_and_have_n_notes_more(pitch_model):
    songs = generate(pitch_model, "60 62 64 62", n_notes=5, n_songs=7, rng=0, vocab=PITCHES, variant="control")
    assert len(songs) == 7
    assert all(len(song) == 9 and song[:4] == [60, 62, 64, 62] for song in songs)
    assert all(isinstance(pitch, int) and pitch in PITCHES for song in songs for pitch in song)


def test_argmax_in_one_batch_equals_one_song_alone_and_greedy_decoding_with_the_full_model(pitch_model):
    seed = [60, 62, 64, 62]
    batched = generate(pitch_model, seed, n_notes=8, n_songs=3, method="argmax", vocab=PITCHES, variant="control")
    alone = generate(pitch_model, seed, n_notes=8, n_songs=1, method="argmax", vocab=PITCHES, variant="control")
    greedy = list(seed)
    for _ in range(8):  # the whole sequence through the full model each time: no carried state
        logits = np.asarray(pitch_model(PITCHES.encode(greedy)[None, :]))[0, -1]
        greedy.append(PITCHES.tokens[int(np.argmax(logits))])
    assert batched == alone * 3 == [greedy] * 3
    assert len(set(greedy[4:])) > 1  # a model stuck on one note would make this test weak


def test_roulette_samples_the_models_softmax(pitch_model):
    """First generated note of 4000 songs vs the model's next-note distribution after the seed."""
    seed_ids = PITCHES.encode([60, 62, 64, 62])
    logits = np.asarray(pitch_model(seed_ids[None, :]), dtype=np.float64)[0, -1]
    for temperature in (1.0, 2.0):
        songs = generate(
            pitch_model, "60 62 64 62", n_notes=1, n_songs=4000, temperature=temperature, rng=1,
            vocab=PITCHES, variant="control",
        )
        counts = np.bincount(PITCHES.encode([song[4] for song in songs]), minlength=len(PITCHES))
        expected = _softmax(logits / temperature)
        assert expected.max() > 2.5 / len(PITCHES)  # a peaked distribution, not a uniform one
        np.testing.assert_allclose(counts / 4000, expected, atol=0.03)


def test_same_rng_same_songs_and_an_int_seed_equals_its_generator(pitch_model):
    def songs(rng):
        return generate(pitch_model, "60 62 64 62", n_notes=10, n_songs=20, rng=rng, vocab=PITCHES, variant="control")

    assert songs(7) == songs(7) == songs(np.random.default_rng(7))
    assert songs(7) != songs(8)
    assert len({tuple(song) for song in songs(7)}) > 1  # songs of one batch differ from each other


def test_a_tiny_temperature_behaves_like_argmax(pitch_model):
    kwargs = dict(n_notes=10, n_songs=5, vocab=PITCHES, variant="control")
    argmax = generate(pitch_model, "60 62 64 62", method="argmax", **kwargs)
    assert generate(pitch_model, "60 62 64 62", temperature=1e-6, rng=3, **kwargs) == argmax


def test_interval_songs_are_decoded_from_the_start_pitch(interval_model):
    songs = generate(interval_model, PAPER_SEEDS["interval"], n_notes=30, n_songs=10, rng=0, vocab=INTERVALS, variant="interval")
    for song in songs:
        assert len(song) == 34 and song[:4] == [60, 62, 64, 62]
        assert all(interval in INTERVALS for interval in to_intervals(song))
    assert len({tuple(song) for song in songs}) > 1


def test_interval_songs_never_leave_the_midi_range(interval_model):
    """The model is pushed to climb by +7 each step; intervals that would pass 127 are never chosen."""
    interval_model.get_layer("logits").bias.assign(np.where(np.array(INTERVALS.tokens) == 7, 50.0, 0.0).astype("float32"))
    try:
        songs = generate(interval_model, "100 7", n_notes=30, n_songs=10, rng=0, vocab=INTERVALS, variant="interval")
    finally:
        interval_model.get_layer("logits").bias.assign(np.zeros(len(INTERVALS), dtype="float32"))
    assert all(len(song) == 32 and max(song) <= 127 and min(song) >= 0 for song in songs)
    assert max(max(song) for song in songs) >= 121  # they did reach the top of the range


def test_an_interval_vocabulary_that_cannot_stay_in_range_is_a_clear_error():
    leaps = Vocabulary([50, 60])
    model = build_model("rnn", 1, len(leaps), 4)
    with pytest.raises(ValueError, match="song 0 is at pitch 110 before generated note 1 and no interval"):
        generate(model, "60 50", n_notes=3, n_songs=2, rng=0, vocab=leaps, variant="interval")


def test_a_seed_token_missing_from_the_vocabulary_is_named(pitch_model):
    without_c_sharp = Vocabulary(token for token in PITCHES.tokens if token != 61)
    with pytest.raises(UnknownTokenError, match="seed '60 61 62': token 61 is not in the vocabulary"):
        generate(pitch_model, "60 61 62", n_notes=2, n_songs=2, vocab=without_c_sharp, variant="control")


@pytest.mark.parametrize(
    "seed, changes, message",
    [
        ("60 x 64", {}, "seed '60 x 64': 'x' is not an integer"),
        ("", {}, "seed '' is empty"),
        ("60", {"variant": "interval", "vocab": INTERVALS}, "an interval seed is a start pitch then at least one interval"),
        ("125 5", {"variant": "interval", "vocab": INTERVALS}, "reaches pitch 130, outside MIDI 0..127"),
        ("60 62", {"method": "max"}, "method 'max' is not one of roulette, argmax"),
        ("60 62", {"temperature": 0.0}, "temperature must be a positive number, got 0.0"),
        ("60 62", {"n_songs": 0}, "n_songs must be a positive integer, got 0"),
        ("60 62", {"n_notes": 2.5}, "n_notes must be a positive integer, got 2.5"),
        ("60 62", {"variant": "midi"}, "variant 'midi' is not one of control, interval, db12"),
        ("60 62", {"vocab": None}, "generating from a bare model needs vocab= and variant="),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(pitch_model, seed, changes, message):
    kwargs = {"n_notes": 2, "n_songs": 2, "vocab": PITCHES, "variant": "control", **changes}
    with pytest.raises(ValueError, match=message):
        generate(pitch_model, seed, **kwargs)


def test_save_songs_writes_one_midi_file_per_song_and_a_json_file(tmp_path):
    songs = [[60, 62, 64, 62, 67], [60, 62, 64, 62, 59]]
    paths = save_songs(songs, tmp_path / "out", details={"seed": "60 62 64 62"})
    assert [path.name for path in paths] == ["song_000.mid", "song_001.mid"]
    assert all(path.read_bytes()[:4] == b"MThd" for path in paths)
    assert json.loads((tmp_path / "out" / SONGS_FILE).read_text()) == {"seed": "60 62 64 62", "songs": songs}
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["song_000.mid", "song_001.mid", SONGS_FILE]


# ------------------------------------------------------------------------------------------------
# From a real training run (musiclib.models.train) on the Essen slice, and the CLI
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def control_run(essen_slice, tmp_path_factory):
    from musiclib.models.train import TrainConfig, train

    splits = sequences.Splits(train=essen_slice.melodies[20:], validation=essen_slice.melodies[:20], test=[])
    config = TrainConfig(model="nas", num_layers=2, rnn_size=32, batch_size=16, seq_length=16, num_epochs=1)
    run_dir = tmp_path_factory.mktemp("control-nas-2")
    return train(config, sequences.prepare_variant(splits, "control"), run_dir, progress=False)


@pytest.mark.slow
def test_generate_from_a_trained_run_and_from_the_command_line(control_run, tmp_path):
    songs = generate(control_run, PAPER_SEEDS["control"], n_notes=30, n_songs=100, rng=1)
    assert len(songs) == 100 and all(len(song) == 34 and song[:4] == [60, 62, 64, 62] for song in songs)
    assert all(pitch in control_run.vocab for song in songs for pitch in song)

    out = tmp_path / "songs"
    argv = ["generate", "--run_dir", str(control_run.run_dir), "-n", "6", "--n_songs", "4", "--output_uri", str(out)]
    assert main([*argv, "--random_seed", "1"]) == 0
    written = json.loads((out / SONGS_FILE).read_text())
    assert written["songs"] == generate(control_run, "60 62 64 62", n_notes=6, n_songs=4, rng=1)
    assert written["seed"] == "60 62 64 62" and written["selection_method"] == "roulette"
    assert len(list(out.glob("song_*.mid"))) == 4

    greedy = generate(control_run, "60 62", n_notes=6, n_songs=4, method="argmax")
    for word in ("max", "argmax"):  # sample.py's word and the library's
        assert main([*argv, "--selection_method", word, "--seed", "60 62"]) == 0
        written = json.loads((out / SONGS_FILE).read_text())
        assert written["songs"] == greedy and written["selection_method"] == "argmax"


@pytest.mark.slow
def test_the_command_line_samples_a_checkpoint_as_the_original_ckpt_file_flag(control_run, tmp_path, capsys):
    from musiclib.models.train import list_checkpoints, load_checkpoint_model

    first = list_checkpoints(control_run.run_dir)[0]
    argv = ["generate", "--ckpt_dir", str(control_run.run_dir), "-n", "5", "--n_songs", "3", "--random_seed", "2"]
    assert main([*argv, "--ckpt_file", first.path.name, "--output_uri", str(tmp_path)]) == 0
    written = json.loads((tmp_path / SONGS_FILE).read_text())
    expected = generate(
        load_checkpoint_model(first), "60 62 64 62", n_notes=5, n_songs=3, rng=2, vocab=control_run.vocab, variant="control"
    )
    assert written["songs"] == expected and written["ckpt_file"] == first.path.name
    assert written["songs"] != generate(control_run, "60 62 64 62", n_notes=5, n_songs=3, rng=2)  # not the final model

    assert main([*argv, "--ckpt_file", "step-9999999_loss-0.10000.weights.h5"]) == 2
    assert "not a checkpoint of" in capsys.readouterr().err


@pytest.mark.parametrize("word, method", [("max", "argmax"), ("argmax", "argmax"), ("roulette", "roulette")])
def test_the_command_line_accepts_sample_py_max_as_argmax(tmp_path, word, method):
    from musiclib.cli import _build_parser
    from musiclib.models.generate import METHODS

    args = _build_parser().parse_args(["generate", "--run_dir", str(tmp_path), "--selection_method", word])
    assert args.selection_method == method and method in METHODS


def test_the_command_line_rejects_an_unknown_selection_method(tmp_path, capsys):
    assert main(["generate", "--run_dir", str(tmp_path), "--selection_method", "greedy"]) == 2
    assert "invalid choice: 'greedy'" in capsys.readouterr().err


def test_the_command_line_names_a_missing_run(tmp_path, capsys):
    assert main(["generate", "--run_dir", str(tmp_path / "nothing")]) == 2
    assert "holds no finished training run" in capsys.readouterr().err


def _repository(root):
    """A folder the command line takes for the repository root (its relative paths start there)."""
    (root / "pyproject.toml").write_text("")
    (root / "_toc.yml").write_text("")
    return root


def test_the_command_line_says_when_the_edition_has_no_models_yet(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(_repository(tmp_path))
    assert main(["generate", "--model", "control-lstm"]) == 2
    assert "holds no models; the published edition ships its models from the next edition on" in capsys.readouterr().err


@pytest.mark.slow
def test_an_edition_model_generates_the_notes_of_the_run_it_came_from(tiny, tmp_path, monkeypatch, capsys):
    from musiclib.book.edition import edition_models_dir, write_edition_models
    from musiclib.experiments.selection import select_layers, selected_runs

    _, _, _, result = tiny
    selection = select_layers(result)
    write_edition_models(edition_models_dir(_repository(tmp_path) / "book"), "tiny", result, selection)
    source = selected_runs(result, selection)[("control", "lstm")]
    name = f"control-lstm-{source.config.num_layers}"
    monkeypatch.chdir(tmp_path)  # relative paths (the edition, the default output folder) start here
    argv = ["-n", "8", "--n_songs", "5", "--random_seed", "3"]
    assert main(["generate", "--run_dir", str(source.run_dir), *argv, "--output_uri", str(tmp_path / "from-run")]) == 0
    assert main(["generate", "--run_dir", f"book/edition/models/{name}", *argv]) == 0
    assert main(["generate", "--model", "control-lstm", *argv, "--output_uri", "by-name"]) == 0
    expected = json.loads((tmp_path / "from-run" / SONGS_FILE).read_text())["songs"]
    assert expected == generate(source, "60 62 64 62", n_notes=8, n_songs=5, rng=3)
    for written in (tmp_path / "runs" / "songs" / name, tmp_path / "by-name"):  # never inside the committed edition
        assert json.loads((written / SONGS_FILE).read_text())["songs"] == expected
    assert not (tmp_path / "book" / "edition" / "models" / name / "songs").exists()
    capsys.readouterr()
    assert main(["generate", "--model", "control-lstm", "--weights", "final"]) == 2
    assert "keeps only its best weights" in capsys.readouterr().err
