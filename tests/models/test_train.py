"""musiclib.models.train: the paper's batching and recipe, run directories, determinism, resume.

Training tests use tiny real runs (1 layer x 32 units, batches of 16 x 16) on the Essen slice.
"""

from __future__ import annotations

import _thread
import json
import math
import signal
import threading
import time

import numpy as np
import pytest

from musiclib.data import sequences
from musiclib.data.sequences import Vocabulary
from musiclib.models.training_loop import epoch_overhead, fit_data
from musiclib.models.train import (
    BEST_MODEL_FILE,
    COMPLETE_FILE,
    FINAL_MODEL_FILE,
    RESUME_FILE,
    TENSORBOARD_DIR,
    TrainConfig,
    TrainingError,
    learning_rate_at,
    list_checkpoints,
    load_checkpoint_model,
    load_run,
    paper_batches,
    train,
)

TINY = dict(num_layers=1, rnn_size=32, batch_size=16, seq_length=16, num_epochs=4, save_every=10)


# ------------------------------------------------------------------------------------------------
# Batching and configuration (no training)
# ------------------------------------------------------------------------------------------------


def test_paper_batches_match_the_papers_figure():
    # facts 1.2: songs [60 62 64 62] and [67 65 65 69] give X = 60 62 64 67 65 65, Y = 62 64 62 65 65 69.
    songs = [[60, 62, 64, 62], [67, 65, 65, 69]]
    vocab = Vocabulary.from_sequences(songs)
    batches = paper_batches(songs, vocab, batch_size=1, seq_length=3)
    assert batches.inputs.shape == batches.targets.shape == (2, 1, 3)
    assert [vocab.decode(batch[0]) for batch in batches.inputs] == [[60, 62, 64], [67, 65, 65]]
    assert [vocab.decode(batch[0]) for batch in batches.targets] == [[62, 64, 62], [65, 65, 69]]


def test_paper_batches_truncate_and_lay_rows_out_so_batches_continue_each_other():
    songs = [[1, 2, 3, 4, 5], [6, 7, 8], [9, 10, 11, 12, 13, 14]]
    vocab = Vocabulary.from_sequences(songs)
    # X = 1 2 3 4 6 7 9 10 11 12 13 (11 tokens) -> 2 batches of 2 x 2 = 8 tokens; rows 1 2 3 4 | 6 7 9 10.
    batches = paper_batches(songs, vocab, batch_size=2, seq_length=2)
    assert batches.num_batches == 2 and batches.num_tokens == 8
    decoded_inputs = [[vocab.decode(row) for row in batch] for batch in batches.inputs]
    decoded_targets = [[vocab.decode(row) for row in batch] for batch in batches.targets]
    assert decoded_inputs == [[[1, 2], [6, 7]], [[3, 4], [9, 10]]]
    assert decoded_targets == [[[2, 3], [7, 8]], [[4, 5], [10, 11]]]
    inputs, targets = batches.rows()
    assert inputs.shape == (4, 2) and inputs.dtype == np.int32
    assert vocab.decode(inputs[2]) == [3, 4] and vocab.decode(targets[3]) == [10, 11]


def test_paper_batches_name_the_split_and_the_fix_when_data_is_too_short():
    songs = [[60, 62, 64, 65, 67]]
    with pytest.raises(TrainingError, match=r"validation split has 4 tokens, fewer than one batch of 50 x 50; lower --batch_size"):
        paper_batches(songs, Vocabulary.from_sequences(songs), 50, 50, split="validation")


def test_paper_batches_reject_tokens_outside_the_vocabulary():
    with pytest.raises(sequences.UnknownTokenError, match="61"):
        paper_batches([[60, 61, 62]], Vocabulary([60, 62]), 1, 1)


def test_fit_gets_the_rows_batch_after_batch_and_tensorflow_a_pipeline_without_autotuning(control_data):
    """Keras' own pipeline for arrays autotunes its prefetching, which left epochs on one core of two."""
    import keras

    inputs, targets = paper_batches(control_data.train, control_data.vocab, 16, 16).rows()
    data = fit_data(inputs, targets, 16)
    if keras.backend.backend() != "tensorflow":
        assert data["x"] is inputs and data["y"] is targets and data["batch_size"] == 16
    else:
        assert set(data) == {"x"} and data["x"].options().autotune.enabled is False
        batches = list(data["x"].as_numpy_iterator())
        assert len(batches) == len(inputs) // 16
        assert np.array_equal(np.concatenate([batch[0] for batch in batches]), inputs)
        assert np.array_equal(np.concatenate([batch[1] for batch in batches]), targets)
    with pytest.raises(ValueError, match="are not whole batches of 16"):
        fit_data(inputs[:-1], targets[:-1], 16)


def test_defaults_are_the_papers_recipe():
    config = TrainConfig()
    assert (config.batch_size, config.seq_length, config.rnn_size, config.save_every) == (50, 50, 128, 1000)
    assert (config.learning_rate, config.decay_rate, config.grad_clip) == (0.002, 0.97, 5.0)
    assert config.per_variant("num_epochs") == {"control": 300, "interval": 300, "db12": 50}  # the paper's
    assert (config.xla, config.onednn) == ("auto", True)
    assert (config.patience, config.plateau_budget) == (0, 0)  # no early stopping, no restarts: the paper's epochs
    assert [learning_rate_at(config, epoch) for epoch in (1, 2, 3)] == pytest.approx([0.002, 0.00194, 0.0018818])


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(model="transformer"), r"--model 'transformer' is not one of lstm, nas"),
        (dict(variant="chords"), r"--variant 'chords' is not one of control, interval, db12"),
        (dict(num_layers=0), r"--num_layers must be a positive integer, got 0"),
        (dict(batch_size=2.5), r"--batch_size must be a positive integer"),
        (dict(learning_rate=-1.0), r"--learning_rate must be a positive number"),
        (dict(decay_rate=1.5), r"--decay_rate must be in \(0, 1\]"),
        (dict(grad_clip=float("nan")), r"--grad_clip must be a positive number"),
        (dict(patience=-1), r"--patience must be a non-negative integer, got -1"),
        (dict(min_delta=-0.1), r"--min_delta must be a non-negative number \(nats per note\)"),
        (dict(validations_per_epoch=0), r"--validations_per_epoch must be a positive integer, got 0"),
        (dict(plateau_margin=-0.05), r"--plateau_margin must be a non-negative number \(nats per note\)"),
        (dict(plateau_budget={"db12": -1}), r"--plateau_budget of db12 must be a non-negative integer, got -1"),
        (dict(max_restarts=1.5), r"--max_restarts must be a non-negative integer"),
        (dict(validation_transpositions=13), r"--validation_transpositions must be at most 12 \(DB12 has 12"),
        (dict(validation_transpositions=0), r"--validation_transpositions must be a positive integer, got 0"),
        (dict(checkpoint_steps=(0, -5)), r"--checkpoint_steps must be non-negative integers"),
        (dict(seed=-1), r"--random_seed must be a non-negative integer"),
        (dict(xla="yes"), r"--xla 'yes' is not one of auto, on, off"),
        (dict(onednn="off"), r"--onednn must be true or false, got 'off'"),
        (dict(rnn_size={"control": 64}), r"--rnn_size takes one value, not one per variant"),
        (dict(num_epochs={"chords": 3}), r"--num_epochs: \['chords'\] are not dataset variants"),
        (dict(num_epochs={"db12": 0}), r"--num_epochs of db12 must be a positive integer, got 0"),
    ],
)
def test_bad_settings_are_refused_with_the_flag_named(settings, message):
    with pytest.raises(TrainingError, match=message):
        TrainConfig(**settings)


def test_per_variant_settings_resolve_for_a_variant_and_others_get_the_default():
    settings = TrainConfig(num_epochs={"control": 10, "db12": 2}, min_epochs={"control": 3}, plateau_budget={"db12": 1}, rnn_size=64)
    db12 = settings.for_variant("db12", model="nas", num_layers=3)
    assert (db12.variant, db12.model, db12.num_layers, db12.num_epochs, db12.min_epochs, db12.rnn_size) == ("db12", "nas", 3, 2, 0, 64)
    assert (db12.plateau_budget, settings.for_variant("control").plateau_budget) == (1, 0)
    assert settings.for_variant("interval").num_epochs == 300  # left out of the map: the paper's epochs
    assert settings.per_variant("min_epochs", ("control", "db12")) == {"control": 3, "db12": 0}
    assert db12.for_variant("db12") == db12


@pytest.mark.parametrize(
    "model, xla, backend, jit_compile",
    [("nas", "auto", "tensorflow", True), ("lstm", "auto", "tensorflow", "auto"), ("nas", "auto", "jax", "auto"),
     ("nas", "off", "tensorflow", False), ("lstm", "on", "torch", True)],
)
def test_the_xla_policy_gives_kerass_jit_compile(model, xla, backend, jit_compile):
    assert TrainConfig(model=model, xla=xla).jit_compile(backend) == jit_compile


@pytest.mark.parametrize(
    "model, xla, backend, jit_compile",
    [("lstm", "auto", "tensorflow", True), ("nas", "auto", "tensorflow", "auto"), ("ugrnn", "auto", "tensorflow", "auto"),
     ("lstm", "auto", "torch", "auto"), ("lstm", "off", "tensorflow", False), ("nas", "on", "tensorflow", True)],
)
def test_the_xla_policy_of_the_validation_checks_is_measured_per_cell_apart_from_trainings(model, xla, backend, jit_compile):
    """The LSTM's forward pass gains from XLA where its training step loses, NAS's the other way round."""
    assert TrainConfig(model=model, xla=xla).jit_compile(backend, validation=True) == jit_compile


def test_checkpoint_steps_are_sorted_without_repeats_and_survive_json():
    config = TrainConfig(checkpoint_steps=[750, 0, 20, 20, 30])
    assert config.checkpoint_steps == (0, 20, 30, 750)
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert TrainConfig().patience == 0  # early stopping is off by default: the paper's fixed epochs


def test_unknown_saved_settings_are_refused_with_the_source_named():
    with pytest.raises(TrainingError, match=r"run/config.json: unknown training settings \['dropout'\]"):
        TrainConfig.from_dict({**TrainConfig().to_dict(), "dropout": 0.5}, source="run/config.json")


def test_load_run_refuses_an_unfinished_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path} holds no finished training run"):
        load_run(tmp_path)


# ------------------------------------------------------------------------------------------------
# Tiny real runs on the Essen slice
# ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def control_data(essen_slice):
    """Control variant of the slice; every 5th melody held out for validation (a fixed, even spread)."""
    melodies = essen_slice.melodies
    training = [melody for index, melody in enumerate(melodies) if index % 5]
    splits = sequences.Splits(train=training, validation=melodies[::5], test=[])
    return sequences.prepare_variant(splits, "control")


@pytest.fixture(scope="module")
def reference_run(control_data, tmp_path_factory):
    """One uninterrupted tiny run: 4 epochs, checkpoints every 10 steps."""
    return train(TrainConfig(**TINY), control_data, tmp_path_factory.mktemp("reference"), progress=False)


def _step_losses(history):
    return [entry["loss"] for entry in history["steps"]]


def _train_until_ctrl_c(config, variant_data, run_dir, ready=None):
    """Start ``train`` and press Ctrl-C (KeyboardInterrupt in the main thread) as soon as a resume
    point exists for which ``ready(position)`` holds (default: any resume point; ``position`` is the
    resume point's JSON: step, restarts, early_stopping, ...). Returns the position that triggered it."""
    resume_point = run_dir / RESUME_FILE
    seen = {}

    def press_ctrl_c():
        while True:
            try:
                with np.load(resume_point) as saved:
                    position = json.loads(str(saved["position"]))
            except (FileNotFoundError, OSError, ValueError, KeyError):  # not there yet, or being replaced
                time.sleep(0.001)
                continue
            if ready is None or ready(position):
                seen.update(position)
                _thread.interrupt_main()
                return
            time.sleep(0.001)

    # A shell starts background jobs with SIGINT ignored, and then interrupt_main does nothing:
    # Python's own handler is put back for the test (e.g. under `nohup make test &`).
    saved_handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Thread(target=press_ctrl_c, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            train(config, variant_data, run_dir, progress=False)
    finally:
        signal.signal(signal.SIGINT, saved_handler)
    return seen


@pytest.mark.slow
def test_training_and_validation_loss_fall(reference_run, control_data):
    epochs = reference_run.history["epochs"]
    assert [entry["epoch"] for entry in epochs] == [1, 2, 3, 4]
    train_losses = [entry["train_loss"] for entry in epochs]
    val_losses = [entry["val_loss"] for entry in epochs]
    assert all(later < earlier for earlier, later in zip(train_losses, train_losses[1:]))
    assert all(later < earlier for earlier, later in zip(val_losses, val_losses[1:]))
    # The untrained model guesses about uniformly over the vocabulary: ln(vocab size) nats per token.
    first_loss = reference_run.history["steps"][0]["loss"]
    assert first_loss == pytest.approx(math.log(len(control_data.vocab)), abs=0.1)
    assert val_losses[-1] < first_loss - 0.5


@pytest.mark.slow
def test_history_holds_every_step_and_the_decayed_learning_rate(reference_run, control_data):
    config = reference_run.config
    steps_per_epoch = paper_batches(control_data.train, control_data.vocab, 16, 16).num_batches
    history = reference_run.history
    assert [entry["step"] for entry in history["steps"]] == list(range(1, 4 * steps_per_epoch + 1))
    for epoch in history["epochs"]:
        assert epoch["learning_rate"] == pytest.approx(learning_rate_at(config, epoch["epoch"]), rel=1e-6)
        in_epoch = _step_losses(history)[(epoch["epoch"] - 1) * steps_per_epoch : epoch["epoch"] * steps_per_epoch]
        assert epoch["train_loss"] == pytest.approx(np.mean(in_epoch))
        assert epoch["seconds"] > 0
        # the overhead parts: validation and the per-step callback inside the epoch's seconds, saving outside
        assert 0 < epoch["validation_seconds"] + epoch["step_callback_seconds"] < epoch["seconds"]
        assert epoch["save_seconds"] >= 0 and (epoch["epoch"] == 1 or epoch["save_seconds"] > 0)
    shares = epoch_overhead(history["epochs"])
    assert 0 < shares["validation"] < shares["total"] < 1
    assert json.loads((reference_run.run_dir / "history.json").read_text()) == history


def test_epoch_overhead_is_each_part_over_the_epochs_wall_time():
    epochs = [
        {"seconds": 10.0, "validation_seconds": 1.0, "step_callback_seconds": 0.5, "save_seconds": 0.0},
        {"seconds": 9.0, "validation_seconds": 1.0, "step_callback_seconds": 0.5, "save_seconds": 1.0},
        {"seconds": 10.0},  # recorded before the parts were measured
    ]
    shares = epoch_overhead(epochs)
    assert shares["validation"] == pytest.approx(2 / 30) and shares["save"] == pytest.approx(1 / 30)  # wall: 10 + 9 + 1 + 10
    assert shares["total"] == pytest.approx(4 / 30)
    assert math.isnan(epoch_overhead([{"seconds": 0.0}])["total"])


@pytest.mark.slow
def test_checkpoints_every_save_every_steps_named_with_step_and_loss(reference_run):
    checkpoints = list_checkpoints(reference_run.run_dir)
    last_step = reference_run.history["steps"][-1]["step"]
    assert [checkpoint.step for checkpoint in checkpoints] == [0, *range(10, last_step + 1, 10), *([last_step] if last_step % 10 else [])]
    losses = {entry["step"]: entry["loss"] for entry in reference_run.history["steps"]}
    for checkpoint in checkpoints[1:]:
        assert checkpoint.loss == pytest.approx(losses[checkpoint.step], abs=5e-6)
    # Step 0 is the untrained model, scored by the first batch's loss.
    assert checkpoints[0].loss == pytest.approx(losses[1], abs=5e-6)


@pytest.mark.slow
def test_step_zero_checkpoint_reproduces_the_first_batch_loss(reference_run, control_data):
    import keras

    untrained = load_checkpoint_model(list_checkpoints(reference_run.run_dir)[0])
    untrained.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    batches = paper_batches(control_data.train, control_data.vocab, 16, 16)
    loss = untrained.evaluate(batches.inputs[0], batches.targets[0], verbose=0)
    assert loss == pytest.approx(reference_run.history["steps"][0]["loss"], abs=1e-5)


@pytest.mark.slow
def test_final_model_is_the_last_checkpoint_and_takes_any_batch_size(reference_run):
    final = reference_run.final_model
    last = load_checkpoint_model(list_checkpoints(reference_run.run_dir)[-1])
    for final_weights, checkpoint_weights in zip(final.get_weights(), last.get_weights()):
        np.testing.assert_array_equal(final_weights, checkpoint_weights)
    tokens = np.array([[0, 1, 2, 3, 4]] * 3, dtype="int32")
    assert final.predict(tokens, verbose=0).shape == (3, 5, len(reference_run.vocab))
    loaded = load_run(reference_run.run_dir)
    np.testing.assert_allclose(loaded.final_model.predict(tokens, verbose=0), final.predict(tokens, verbose=0), atol=1e-6)
    assert loaded.config == reference_run.config and loaded.vocab == reference_run.vocab
    assert not (reference_run.run_dir / RESUME_FILE).exists()


@pytest.mark.slow
def test_tensorboard_scalars_and_projector_files(reference_run):
    from tensorboard.backend.event_processing.event_file_loader import (
        LegacyEventFileLoader,
    )

    log_dir = reference_run.run_dir / TENSORBOARD_DIR
    scalars: dict[str, list[tuple[int, float]]] = {}
    for event_file in log_dir.glob("events.out.tfevents.*"):
        for event in LegacyEventFileLoader(str(event_file)).Load():
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    history = reference_run.history
    assert [loss for _, loss in scalars["train_loss"]] == pytest.approx(_step_losses(history))
    assert [loss for _, loss in scalars["epoch/val_loss"]] == pytest.approx([e["val_loss"] for e in history["epochs"]])
    assert len(scalars["epoch/learning_rate"]) == len(scalars["epoch/train_loss"]) == 4

    vocab = reference_run.vocab
    vectors = np.loadtxt(log_dir / "vectors.tsv", delimiter="\t")
    assert vectors.shape == (len(vocab), 32)
    np.testing.assert_allclose(vectors, reference_run.model.get_layer("embedding").get_weights()[0], rtol=1e-5, atol=1e-6)
    labels = (log_dir / "metadata.tsv").read_text().splitlines()
    assert labels == [sequences.token_label(token, "control") for token in vocab.tokens]
    assert "C4" in labels  # middle C (MIDI 60) is in every Essen slice
    config_text = (log_dir / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "vectors.tsv"' in config_text and 'metadata_path: "metadata.tsv"' in config_text


@pytest.mark.slow
def test_same_seed_same_losses_and_a_finished_run_is_reused(reference_run, control_data, tmp_path):
    one_epoch = TrainConfig(**{**TINY, "num_epochs": 1})  # the reference run's first epoch, exactly
    again = train(one_epoch, control_data, tmp_path, progress=False)
    steps = len(again.history["steps"])
    assert _step_losses(again.history) == _step_losses(reference_run.history)[:steps]
    assert again.history["epochs"][0]["val_loss"] == reference_run.history["epochs"][0]["val_loss"]

    final_written = (tmp_path / FINAL_MODEL_FILE).stat().st_mtime_ns
    reused = train(one_epoch, control_data, tmp_path, progress=False)
    assert (tmp_path / FINAL_MODEL_FILE).stat().st_mtime_ns == final_written
    assert reused.history == again.history

    with pytest.raises(TrainingError, match=r"other settings \(num_layers 2 here, 1 there\).*--force"):
        train(TrainConfig(**{**TINY, "num_epochs": 1, "num_layers": 2}), control_data, tmp_path, progress=False)
    fewer_songs = sequences.VariantData(**{**vars(control_data), "train": control_data.train[:-20]})
    with pytest.raises(TrainingError, match=r"training data of \d+ tokens here, \d+ there"):
        train(one_epoch, fewer_songs, tmp_path, progress=False)

    retrained = train(TrainConfig(**{**TINY, "num_epochs": 1, "seed": 1}), control_data, tmp_path, force=True, progress=False)
    assert len(retrained.history["epochs"]) == 1
    assert retrained.history["steps"][0]["loss"] != reference_run.history["steps"][0]["loss"]  # another seed
    assert json.loads((tmp_path / "config.json").read_text())["seed"] == 1
    assert list_checkpoints(tmp_path)[-1].step == retrained.history["steps"][-1]["step"]  # no stale checkpoints


@pytest.mark.slow
def test_interrupted_run_resumes_from_its_last_checkpoint_reading_arrays_by_key(reference_run, control_data, tmp_path):
    """The resume file's arrays, stored here in reversed order, are read by key: the run continues
    as the uninterrupted one. A file in the old positional layout is refused with the fix named."""
    resume_point = tmp_path / RESUME_FILE
    _train_until_ctrl_c(TrainConfig(**TINY), control_data, tmp_path)
    assert not (tmp_path / COMPLETE_FILE).exists()
    with np.load(resume_point) as saved:
        resumed_from = json.loads(str(saved["position"]))["step"]
        arrays = {key: saved[key] for key in reversed(saved.files)}
    assert 0 < resumed_from < reference_run.history["steps"][-1]["step"]
    np.savez(resume_point, **arrays)
    written_before = {c.step: c.path.stat().st_mtime_ns for c in list_checkpoints(tmp_path) if c.step <= resumed_from}

    resumed = train(TrainConfig(**TINY), control_data, tmp_path, progress=False)
    # Continued, not restarted: earlier checkpoints untouched, and the whole history is the uninterrupted run's.
    assert {c.step: c.path.stat().st_mtime_ns for c in list_checkpoints(tmp_path) if c.step <= resumed_from} == written_before
    assert _step_losses(resumed.history) == pytest.approx(_step_losses(reference_run.history), abs=1e-6)
    assert [e["val_loss"] for e in resumed.history["epochs"]] == pytest.approx(
        [e["val_loss"] for e in reference_run.history["epochs"]], abs=1e-6
    )
    assert [c.step for c in list_checkpoints(tmp_path)] == [c.step for c in list_checkpoints(reference_run.run_dir)]

    positional = {f"weight_{index:04d}": array for index, array in enumerate(arrays.values())}
    np.savez(resume_point, position=arrays["position"], **positional)
    (tmp_path / COMPLETE_FILE).unlink()
    with pytest.raises(ValueError, match=r"has no array 'weight/embedding/embeddings'.*resume=False / --force"):
        train(TrainConfig(**TINY), control_data, tmp_path, progress=False)


@pytest.mark.slow
def test_an_xla_compiled_nas_run_resumes_to_the_uninterrupted_run(control_data, tmp_path):
    """NAS trains with XLA (``xla = "auto"``); a kill and resume still gives the uninterrupted run."""
    import keras

    config = TrainConfig(**TINY, model="nas")
    reference = train(config, control_data, tmp_path / "reference", progress=False)
    saved = json.loads((tmp_path / "reference" / "config.json").read_text())
    assert (saved["xla"], saved["onednn"]) == ("auto", True)  # as requested
    assert reference.summary["xla"] is (keras.backend.backend() != "torch")  # as in effect
    assert reference.summary["onednn"] in ((True, False) if keras.backend.backend() == "tensorflow" else (None,))
    _train_until_ctrl_c(config, control_data, tmp_path / "resumed")
    resumed = train(config, control_data, tmp_path / "resumed", progress=False)
    assert _step_losses(resumed.history) == pytest.approx(_step_losses(reference.history), abs=1e-6)
    assert resumed.history["epochs"][-1]["val_loss"] == pytest.approx(reference.history["epochs"][-1]["val_loss"], abs=1e-6)


def test_data_of_another_variant_is_refused(control_data, tmp_path):
    with pytest.raises(TrainingError, match=r"data is the 'control' variant but the config says --variant 'interval'"):
        train(TrainConfig(**TINY, variant="interval"), control_data, tmp_path, progress=False)


@pytest.mark.slow
@pytest.mark.parametrize("cell, variant, songs", [("nas", "interval", 250), ("ugrnn", "db12", 30)])
def test_the_papers_other_cells_learn_each_variant(cell, variant, songs, essen_slice, tmp_path):
    melodies = essen_slice.melodies[:songs]  # fewer for DB12, which makes 12 sequences of each melody
    splits = sequences.Splits(train=[m for i, m in enumerate(melodies) if i % 5], validation=melodies[::5], test=[])
    settings = dict(model=cell, variant=variant, num_layers=2, rnn_size=16, batch_size=32, learning_rate=0.01, num_epochs=3)
    config = TrainConfig(**{**TINY, **settings})
    data = sequences.prepare_variant(splits, variant)
    run = train(config, data, tmp_path, progress=False)
    epochs = run.history["epochs"]
    assert epochs[-1]["train_loss"] < epochs[0]["train_loss"] - 0.05
    assert epochs[-1]["val_loss"] < epochs[0]["val_loss"] - 0.05
    if variant == "db12":
        # the checks score 3 of the 12 transpositions of each melody; the selection loss all 12
        from musiclib.measures.scoring import score_keras
        from musiclib.models.training_loop import transposition_subset

        checked = transposition_subset(data.validation, config.validation_transpositions)
        assert 0 < len(checked) < len(data.validation)
        assert run.summary["best_val_loss"] == pytest.approx(score_keras(run.model, data.vocab, checked).cross_entropy, abs=1e-5)
        selection = score_keras(run.model, data.vocab, data.validation).cross_entropy
        assert run.summary["selection_loss"] == pytest.approx(selection, abs=1e-5)
        assert abs(selection - run.summary["best_val_loss"]) > 1e-4


@pytest.mark.slow
def test_validation_loss_is_the_test_sets_scoring_and_the_summary_says_how_the_run_went(reference_run, control_data):
    """A check scores every note after the first of every validation song, each from a zero state
    (musiclib.measures.scoring.score_keras); for control the selection loss is the best check's."""
    import keras

    from musiclib.measures.scoring import score_keras

    expected = score_keras(reference_run.final_model, control_data.vocab, control_data.validation).cross_entropy
    assert reference_run.history["epochs"][-1]["val_loss"] == pytest.approx(expected, abs=1e-5)
    summary = json.loads((reference_run.run_dir / COMPLETE_FILE).read_text())
    assert summary["selection_loss"] == pytest.approx(summary["best_val_loss"], abs=1e-7)
    assert summary["selection_loss"] == pytest.approx(
        score_keras(reference_run.model, control_data.vocab, control_data.validation).cross_entropy, abs=1e-5
    )
    # an LSTM's checks ran under XLA on TensorFlow (XLA_SCORED_CELLS), its training steps without
    tensorflow = keras.backend.backend() == "tensorflow"
    assert (summary["validation_xla"], summary["xla"]) == (tensorflow, False)
    # it learned (left the plateau), never restarted, and was still improving at its 4-epoch cap
    assert (summary["left_plateau"], summary["restarts"], summary["final_seed"]) == (True, 0, 0)
    assert summary["hit_cap_improving"] and summary["best_epoch"] == summary["stopped_epoch"] == 4
    assert reference_run.history["restarts"] == []


# ------------------------------------------------------------------------------------------------
# Early stopping, best weights, validation cadence, checkpoint schedule
# ------------------------------------------------------------------------------------------------

# 20 training songs and a 64-unit model at a high learning rate: the validation loss bottoms out
# after a few epochs and then rises (the model memorises its 20 songs).
OVERFIT = dict(num_layers=1, rnn_size=64, batch_size=8, seq_length=16, num_epochs=40, save_every=4, learning_rate=0.02, patience=3)


@pytest.fixture(scope="module")
def overfit_data(essen_slice):
    melodies = essen_slice.melodies
    return sequences.prepare_variant(sequences.Splits(train=melodies[:20], validation=melodies[200:], test=[]), "control")


@pytest.fixture(scope="module")
def early_stopped_run(overfit_data, tmp_path_factory):
    return train(TrainConfig(**OVERFIT), overfit_data, tmp_path_factory.mktemp("early"), progress=False)


@pytest.mark.slow
def test_early_stopping_stops_before_the_cap_at_the_patience_after_the_minimum(early_stopped_run):
    run = early_stopped_run
    val_losses = [epoch["val_loss"] for epoch in run.history["epochs"]]
    summary = json.loads((run.run_dir / COMPLETE_FILE).read_text())
    assert summary == run.summary
    assert summary["stopped_early"] and summary["stopped_epoch"] == len(val_losses) < OVERFIT["num_epochs"]
    assert summary["best_epoch"] == 1 + int(np.argmin(val_losses))  # epochs counted from 1
    assert summary["best_val_loss"] == min(val_losses)
    assert summary["stopped_epoch"] == summary["best_epoch"] + OVERFIT["patience"]
    steps_per_epoch = summary["steps"] // summary["stopped_epoch"]
    assert summary["best_step"] == summary["best_epoch"] * steps_per_epoch
    assert run.history["epochs"][-1]["train_loss"] < run.history["epochs"][summary["best_epoch"] - 1]["train_loss"]


@pytest.mark.slow
def test_the_best_weights_are_the_minimum_and_the_ones_generation_uses(early_stopped_run, overfit_data):
    import keras

    from musiclib.measures.scoring import score_keras
    from musiclib.models.generate import generate

    run = load_run(early_stopped_run.run_dir)
    songs, vocab = overfit_data.validation, overfit_data.vocab
    assert score_keras(run.model, vocab, songs).cross_entropy == pytest.approx(run.summary["best_val_loss"], abs=1e-5)
    assert score_keras(run.final_model, vocab, songs).cross_entropy == pytest.approx(run.summary["val_loss"], abs=1e-5)
    best_file = keras.saving.load_model(run.run_dir / BEST_MODEL_FILE, safe_mode=True)
    for mine, saved in zip(run.model.get_weights(), best_file.get_weights()):
        np.testing.assert_array_equal(mine, saved)

    def songs(weights=None, model=None):
        if model is not None:
            return generate(model, "60 62 64 62", n_notes=12, n_songs=4, rng=7, vocab=run.vocab, variant="control")
        return generate(run, "60 62 64 62", n_notes=12, n_songs=4, rng=7, **({} if weights is None else {"weights": weights}))

    assert songs() == songs(model=best_file)  # best by default
    assert songs(weights="final") == songs(model=run.final_model)
    assert songs() != songs(weights="final")


@pytest.mark.slow
def test_a_kill_in_the_middle_of_patience_resumes_to_the_uninterrupted_run(early_stopped_run, overfit_data, tmp_path):
    resume_point = tmp_path / RESUME_FILE
    seen = _train_until_ctrl_c(
        TrainConfig(**OVERFIT), overfit_data, tmp_path, lambda position: position["early_stopping"]["checks_since_improvement"] >= 1
    )["early_stopping"]
    assert not (tmp_path / COMPLETE_FILE).exists()
    with np.load(resume_point) as saved:
        early = json.loads(str(saved["position"]))["early_stopping"]
        assert "best/embedding/embeddings" in saved and "optimizer/adam/iteration" in saved  # keyed by variable path
    assert 1 <= seen["checks_since_improvement"] <= early["checks_since_improvement"] < OVERFIT["patience"]

    resumed = train(TrainConfig(**OVERFIT), overfit_data, tmp_path, progress=False)
    reference = early_stopped_run
    assert _step_losses(resumed.history) == pytest.approx(_step_losses(reference.history), abs=1e-6)
    assert [e["val_loss"] for e in resumed.history["epochs"]] == pytest.approx(
        [e["val_loss"] for e in reference.history["epochs"]], abs=1e-6
    )
    for key in ("best_epoch", "stopped_epoch", "best_step", "steps", "stopped_early"):
        assert resumed.summary[key] == reference.summary[key], key
    for mine, theirs in zip(resumed.model.get_weights(), reference.model.get_weights()):
        np.testing.assert_allclose(mine, theirs, atol=1e-6)


@pytest.mark.slow
def test_min_epochs_keeps_a_run_going_that_patience_would_stop(early_stopped_run, overfit_data, tmp_path):
    stopped = early_stopped_run.summary["stopped_epoch"]
    config = TrainConfig(**OVERFIT, min_epochs=stopped + 2)
    warmed = train(config, overfit_data, tmp_path, progress=False)
    # the same run until its old stop, then two more epochs; patience has long run out, so it
    # stops exactly at the minimum, counted as an early stop (the cap is far)
    assert warmed.summary["stopped_epoch"] == stopped + 2 < OVERFIT["num_epochs"] and warmed.summary["stopped_early"]
    assert _step_losses(warmed.history)[: len(_step_losses(early_stopped_run.history))] == pytest.approx(
        _step_losses(early_stopped_run.history), abs=1e-6
    )
    assert warmed.summary["best_epoch"] == early_stopped_run.summary["best_epoch"]  # still overfitting after it
    assert warmed.summary["plateau_epochs"] == 0  # it learned from its first epoch: min_epochs counts from the start
    # a minimum below the epoch patience stops at changes nothing
    unchanged = train(TrainConfig(**OVERFIT, min_epochs=stopped), overfit_data, tmp_path / "same", progress=False)
    assert unchanged.summary["stopped_epoch"] == stopped
    with pytest.raises(TrainingError, match="--min_epochs"):
        TrainConfig(**OVERFIT, min_epochs=-1)


# ------------------------------------------------------------------------------------------------
# The start-up plateau: patience counts after it, restarts from a new seed
# ------------------------------------------------------------------------------------------------

# A learning rate of 1e-9 keeps the tiny model where it starts, far above the unigram plateau
# (about ln(vocabulary size) against the note frequencies' cross-entropy): a run that never learns.
STUCK = dict(TINY, num_epochs=3, learning_rate=1e-9, plateau_budget=1, max_restarts=2)


@pytest.fixture(scope="module")
def stuck_run(control_data, tmp_path_factory):
    """Seeds 0 and 1 each stay on the plateau for their budget of one epoch and are abandoned; seed 2,
    the last allowed, stays on it too and the run stops at its budget."""
    return train(TrainConfig(**STUCK), control_data, tmp_path_factory.mktemp("stuck"), progress=False)


@pytest.mark.slow
def test_a_run_on_the_plateau_restarts_from_the_next_seed_and_says_so(stuck_run, control_data, tmp_path):
    from musiclib.measures.ngram import fit_ngram

    summary = stuck_run.summary
    assert (summary["restarts"], summary["final_seed"], summary["left_plateau"]) == (2, 2000, False)
    assert summary["stopped_early"] and not summary["hit_cap_improving"]  # stopped at its budget, not at the cap
    assert summary["stopped_epoch"] == summary["epochs"] == 1
    plateau = fit_ngram(control_data.train, control_data.vocab, 1).cross_entropy(control_data.validation)
    assert summary["best_val_loss"] > plateau - TrainConfig().plateau_margin  # the default margin, 0.05
    abandoned = stuck_run.history["restarts"]
    steps_per_epoch = summary["steps"]
    assert [(entry["seed"], entry["epochs"], entry["steps"]) for entry in abandoned] == [(0, 1.0, steps_per_epoch), (1000, 1.0, steps_per_epoch)]
    assert all(entry["best_val_loss"] > plateau - 0.05 and len(entry["validations"]) == 1 for entry in abandoned)
    assert summary["selection_loss"] == pytest.approx(summary["best_val_loss"], abs=1e-7)
    # the kept seed trained exactly as a fresh run of seed 2000 does: fresh weights, a zeroed optimizer
    fresh = train(TrainConfig(**{**STUCK, "seed": 2000, "num_epochs": 1, "plateau_budget": 0}), control_data, tmp_path, progress=False)
    assert _step_losses(stuck_run.history) == pytest.approx(_step_losses(fresh.history), abs=1e-6)
    assert stuck_run.history["epochs"][0]["val_loss"] == pytest.approx(fresh.history["epochs"][0]["val_loss"], abs=1e-6)
    # only the kept seed's checkpoints remain
    assert [c.step for c in list_checkpoints(stuck_run.run_dir)] == [c.step for c in list_checkpoints(tmp_path)]


@pytest.mark.slow
def test_patience_ignores_the_checks_on_the_plateau(control_data, tmp_path):
    """Patience 1 would stop this never-learning run at its second check; on the plateau no check
    counts, so it trains to its cap (no plateau budget: it never restarts)."""
    config = TrainConfig(**{**STUCK, "plateau_budget": 0, "patience": 1, "min_delta": 0.01})
    run = train(config, control_data, tmp_path, progress=False)
    assert (run.summary["stopped_early"], run.summary["epochs"], run.summary["restarts"]) == (False, 3, 0)
    assert not run.summary["left_plateau"] and run.summary["plateau_epochs"] is None
    val_losses = [epoch["val_loss"] for epoch in run.history["epochs"]]
    assert max(val_losses) - min(val_losses) < 0.01  # no check improved by min_delta: patience would have stopped it


@pytest.mark.slow
def test_a_run_interrupted_after_a_restart_resumes_to_the_uninterrupted_run(stuck_run, control_data, tmp_path):
    seen = _train_until_ctrl_c(TrainConfig(**STUCK), control_data, tmp_path, lambda position: position["restarts"] >= 1)
    assert not (tmp_path / COMPLETE_FILE).exists() and seen["restarts"] >= 1
    resumed = train(TrainConfig(**STUCK), control_data, tmp_path, progress=False)
    reference = stuck_run
    assert _step_losses(resumed.history) == pytest.approx(_step_losses(reference.history), abs=1e-6)
    assert [e["val_loss"] for e in resumed.history["epochs"]] == pytest.approx([e["val_loss"] for e in reference.history["epochs"]], abs=1e-6)
    assert [(e["seed"], e["steps"]) for e in resumed.history["restarts"]] == [(e["seed"], e["steps"]) for e in reference.history["restarts"]]
    assert [e["best_val_loss"] for e in resumed.history["restarts"]] == pytest.approx(
        [e["best_val_loss"] for e in reference.history["restarts"]], abs=1e-6
    )
    for key in ("restarts", "final_seed", "left_plateau", "stopped_epoch", "steps", "stopped_early"):
        assert resumed.summary[key] == reference.summary[key], key
    assert resumed.summary["selection_loss"] == pytest.approx(reference.summary["selection_loss"], abs=1e-6)


def test_variable_keys_are_paths_and_repeated_paths_are_numbered():
    from musiclib.models.network import build_model, recurrent_layers
    from musiclib.models.runfiles import variable_keys

    model = build_model("lstm", 2, 10, 4, batch_size=3, stateful=True)
    assert variable_keys("weight", model.weights)[:2] == ["weight/embedding/embeddings", "weight/rnn_1/lstm_cell/kernel"]
    states = [variable for layer in recurrent_layers(model) for variable in layer.states]
    assert variable_keys("state", states) == [
        "state/rnn_1/rnn_state#0", "state/rnn_1/rnn_state#1", "state/rnn_2/rnn_state#0", "state/rnn_2/rnn_state#1"
    ]  # fmt: skip
    nas = build_model("nas", 2, 10, 4)  # named cells: the same paths in every process
    assert "weight/rnn_2/nas_cell/kernel" in variable_keys("weight", nas.weights)


@pytest.mark.slow
def test_checkpoint_steps_and_validations_within_an_epoch(control_data, tmp_path):
    config = TrainConfig(**{**TINY, "num_epochs": 1, "save_every": 1000, "checkpoint_steps": (0, 3, 7, 5000), "validations_per_epoch": 3})
    run = train(config, control_data, tmp_path, progress=False)
    last_step = run.history["steps"][-1]["step"]
    assert [checkpoint.step for checkpoint in list_checkpoints(tmp_path)] == [0, 3, 7, last_step]
    validations = run.history["validations"]
    assert [entry["step"] for entry in validations] == [round(last_step * k / 3) for k in (1, 2, 3)]
    assert validations[-1]["epoch"] == 1.0 and validations[-1]["val_loss"] == run.history["epochs"][0]["val_loss"]
    assert run.summary["best_val_loss"] == min(entry["val_loss"] for entry in validations)


def test_profile_settings_reach_the_train_config(tmp_path):
    from musiclib.experiments import grid, profiles

    text = (profiles.PROFILES_DIR / "quick.toml").read_text()
    text = text.replace("[train]\n", "[train]\npatience = 5\nmin_delta = 0.002\nvalidations_per_epoch = { db12 = 4 }\n")
    path = tmp_path / "early.toml"
    path.write_text(text)
    profile = profiles.load_profile(path)
    control = grid.train_config(profile, grid.GridPoint("control", "lstm", 2))
    db12 = grid.train_config(profile, grid.GridPoint("db12", "lstm", 2))
    assert (control.patience, control.min_delta, control.validations_per_epoch) == (5, 0.002, 1)
    assert db12.validations_per_epoch == 4
    assert grid.train_config(profiles.load_profile("quick"), grid.GridPoint("control", "lstm", 1)).patience == 0
    study_db12 = grid.train_config(profiles.load_profile("study"), grid.GridPoint("db12", "nas", 5))
    assert (study_db12.plateau_budget, study_db12.max_restarts, study_db12.plateau_margin) == (1, 1, 0.05)
    assert (study_db12.validation_transpositions, study_db12.num_epochs, study_db12.xla) == (3, 2, "auto")


@pytest.mark.slow
def test_generate_command_samples_the_best_weights_unless_told_final(early_stopped_run, tmp_path, capsys):
    from musiclib.cli import main
    from musiclib.models.generate import generate

    chosen = {}
    for weights in ("best", "final"):
        output = tmp_path / weights
        argv = ["generate", "--run_dir", str(early_stopped_run.run_dir), "-n", "12", "--n_songs", "3", "--random_seed", "5"]
        assert main([*argv, "--output_uri", str(output), *(["--weights", weights] if weights == "final" else [])]) == 0
        saved = json.loads((output / "songs.json").read_text())
        assert saved["weights"] == weights
        chosen[weights] = saved["songs"]
        expected = generate(early_stopped_run, "60 62 64 62", n_notes=12, n_songs=3, rng=5, weights=weights)
        assert saved["songs"] == expected
    assert chosen["best"] != chosen["final"]


def test_training_refuses_a_backend_that_drops_the_carried_states():
    from musiclib.models.settings import STATELESS_BATCH_BACKENDS, check_backend

    assert "jax" in STATELESS_BATCH_BACKENDS
    with pytest.raises(TrainingError, match="KERAS_BACKEND=jax does not carry the recurrent states"):
        check_backend("jax")
    check_backend("tensorflow")


@pytest.mark.parametrize("cell", ["lstm", "ugrnn"])
def test_a_training_step_carries_the_recurrent_states_into_the_next(cell, control_data):
    """What the JAX backend does not do: batch 2 starts from batch 1's last states, not from zeros."""
    import keras

    from musiclib.models.network import build_model, reset_states

    batches = paper_batches(control_data.train, control_data.vocab, 8, 16)
    losses = {}
    for carried in (True, False):
        model = build_model(cell, 1, len(control_data.vocab), 16, batch_size=8, stateful=True, seed=0)
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        model.train_on_batch(batches.inputs[0], batches.targets[0])
        if not carried:
            reset_states(model)
        losses[carried] = float(model.train_on_batch(batches.inputs[1], batches.targets[1]))
    assert abs(losses[True] - losses[False]) > 1e-6  # (the same step from zero states: equal to the last bit)


PINNED_FINGERPRINT = {
    "train_tokens": 10752,
    "validation_tokens": 2367,
    "sha256": "f9f84d872724c02c0225a5b97345867566004720ca3069d24b5ab9c527ede8ff",
}


def test_the_data_fingerprint_of_a_run_stays_what_finished_runs_recorded(control_data):
    """Every finished run's ``data.json`` holds this fingerprint, and a run whose fingerprint no longer
    matches is refused as "other data": a change to how the batches or the validation songs are laid
    out (``VALIDATION_TOKENS_PER_BATCH`` included) would orphan every run users have trained. Pinned
    to the value of this slice since the study edition."""
    from musiclib.models.train import _data_fingerprint
    from musiclib.models.training_loop import validation_songs

    batches = paper_batches(control_data.train, control_data.vocab, TINY["batch_size"], TINY["seq_length"])
    fingerprint = _data_fingerprint(batches, validation_songs(control_data, transpositions=12))
    assert fingerprint == PINNED_FINGERPRINT
