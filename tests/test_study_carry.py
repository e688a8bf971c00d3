"""The carrier of the study reproduction between sessions (.study/carry.py): what it keeps and restores."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_carry(tmp_path):
    spec = importlib.util.spec_from_file_location("carry", ROOT / ".study" / "carry.py")
    carry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(carry)
    carry.CARRIED = tmp_path / "carried"
    return carry


def make_run(folder: Path, best_val_loss: float | None) -> None:
    """A run folder with every file training writes; finished when ``best_val_loss`` is given."""
    for name in ("config.json", "vocab.json", "data.json", "history.json", "attempts.jsonl", "best.keras", "final.keras"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(name)
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "step-0000000_loss-3.6.weights.h5").write_text("untrained")
    (folder / "checkpoints" / "step-0001000_loss-1.7.weights.h5").write_text("later")
    (folder / "tensorboard").mkdir()
    (folder / "tensorboard" / "vectors.tsv").write_text("0.1\t0.2")
    (folder / "tensorboard" / "events.out.tfevents.1.vm").write_text("scalars")
    if best_val_loss is None:
        (folder / "resume.npz").write_text("resume")
    else:
        (folder / "complete.json").write_text(json.dumps({"best_val_loss": best_val_loss}))


def carried_files(carry) -> set[str]:
    return {str(path.relative_to(carry.CARRIED)) for path in carry.CARRIED.rglob("*") if path.is_file()}


def test_save_keeps_records_of_finished_runs_and_weights_of_the_leader_only(tmp_path):
    carry = load_carry(tmp_path)
    runs = tmp_path / "runs"
    make_run(runs / "study/control/lstm-1", 1.72)
    make_run(runs / "study/control/lstm-2", 1.71)  # the lowest validation loss of the control LSTMs
    make_run(runs / "study/control/nas-1", 1.73)
    make_run(runs / "study/control/lstm-3", None)  # unfinished
    make_run(runs / "study/cross_entropy/lstm-2-seed-0", 1.6)  # chapter 5 needs all its checkpoints
    (runs / "reproduce-study.attempts.json").write_text("[]")
    carry.save(runs)
    files = carried_files(carry)
    assert "study/control/lstm-2/best.keras" in files
    assert "study/control/lstm-2/checkpoints/step-0000000_loss-3.6.weights.h5" in files
    assert "study/control/lstm-2/tensorboard/vectors.tsv" in files
    assert "study/control/lstm-1/best.keras" not in files and "study/control/lstm-1/history.json" in files
    assert "study/control/nas-1/best.keras" in files  # the only NAS: the leader of its cell
    assert "study/control/nas-1/checkpoints/step-0000000_loss-3.6.weights.h5" not in files  # not an LSTM
    assert not any(name.startswith(("study/control/lstm-3", "study/cross_entropy")) for name in files)
    assert not any("final.keras" in name or "tfevents" in name or "step-0001000" in name for name in files)
    assert "reproduce-study.attempts.json" in files


def test_a_run_that_loses_its_lead_loses_its_carried_weights_and_restore_keeps_existing_files(tmp_path):
    carry = load_carry(tmp_path)
    runs = tmp_path / "runs"
    make_run(runs / "study/control/lstm-1", 1.72)
    carry.save(runs)
    make_run(runs / "study/control/lstm-2", 1.70)
    carry.save(runs)
    files = carried_files(carry)
    assert "study/control/lstm-2/best.keras" in files
    assert "study/control/lstm-1/best.keras" not in files
    assert not (carry.CARRIED / "study/control/lstm-1/checkpoints").exists()
    fresh = tmp_path / "fresh"
    (fresh / "study/control/lstm-2").mkdir(parents=True)
    (fresh / "study/control/lstm-2/history.json").write_text("newer")
    carry.restore(fresh)
    assert (fresh / "study/control/lstm-2/history.json").read_text() == "newer"
    assert (fresh / "study/control/lstm-2/best.keras").read_text() == "best.keras"
    assert json.loads((fresh / "study/control/lstm-1/complete.json").read_text()) == {"best_val_loss": 1.72}


def test_with_resume_carries_resume_points_until_their_runs_finish(tmp_path):
    carry = load_carry(tmp_path)
    runs = tmp_path / "runs"
    make_run(runs / "study/control/lstm-3", None)
    carry.save(runs)
    assert not (carry.CARRIED / "study/control/lstm-3").exists()
    carry.save(runs, with_resume=True)
    files = carried_files(carry)
    assert {"study/control/lstm-3/resume.npz", "study/control/lstm-3/config.json",
            "study/control/lstm-3/checkpoints/step-0000000_loss-3.6.weights.h5"} <= files
    assert "study/control/lstm-3/best.keras" not in files
    fresh = tmp_path / "fresh"
    carry.restore(fresh)
    assert (fresh / "study/control/lstm-3/resume.npz").read_text() == "resume"
    (runs / "study/control/lstm-3/resume.npz").unlink()  # the run finishes
    (runs / "study/control/lstm-3/complete.json").write_text(json.dumps({"best_val_loss": 1.7}))
    carry.save(runs)
    assert "study/control/lstm-3/resume.npz" not in carried_files(carry)
    assert "study/control/lstm-3/best.keras" in carried_files(carry)
