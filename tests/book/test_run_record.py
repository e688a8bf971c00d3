"""The attempt log: the wall time of notebook executions survives a kill without warning."""

import json
import subprocess
import sys
import textwrap
import time

import pytest

from musiclib.book.run_record import AttemptLog, NotebookResult, _markdown_record


def test_a_killed_execution_leaves_its_time_up_to_the_last_heartbeat(tmp_path):
    log_path = tmp_path / "reproduce-study.attempts.json"
    launched = time.perf_counter()  # the clock AttemptLog measures with
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from musiclib.book.run_record import AttemptLog
        with AttemptLog({str(log_path)!r}, heartbeat_seconds=0.1).attempt("02_layers"):
            time.sleep(60)
    """)])
    deadline = time.monotonic() + 60
    seen = 0.0
    while time.monotonic() < deadline and seen < 1.0:
        entries = AttemptLog(log_path).entries() if log_path.exists() else []
        seen = entries[0]["seconds"] if entries else 0.0
        time.sleep(0.05)
    child.kill()  # SIGKILL: no finally block runs
    child.wait()
    lived = time.perf_counter() - launched  # the attempt ran inside the child's life
    entries = AttemptLog(log_path).entries()
    assert [entry["status"] for entry in entries] == ["running"]
    count, seconds = AttemptLog(log_path).earlier("02_layers")
    # the log keeps at least what a heartbeat showed before the kill, and never more than the child lived
    assert count == 1 and 1.0 <= seen <= seconds <= round(lived, 1)
    assert AttemptLog(log_path).earlier("03_generation") == (0, 0.0)


def test_an_execution_records_its_status_and_an_exception_leaves_interrupted(tmp_path):
    log = AttemptLog(tmp_path / "log.json", heartbeat_seconds=0.05)
    with log.attempt("01_data") as attempt:
        time.sleep(0.2)
        attempt["status"] = "ok"
    with pytest.raises(KeyboardInterrupt):
        with log.attempt("02_layers"):
            raise KeyboardInterrupt
    entries = log.entries()
    assert [(entry["notebook"], entry["status"]) for entry in entries] == [("01_data", "ok"), ("02_layers", "interrupted")]
    assert entries[0]["seconds"] >= 0.2 and entries[0]["cpu_count"] >= 1
    archived = log.archive()
    assert not log.path.exists() and json.loads(archived.read_text()) == entries and log.entries() == []


def test_a_broken_log_is_named(tmp_path):
    (tmp_path / "log.json").write_text("{")
    with pytest.raises(ValueError, match=r"log\.json is not valid JSON.*move it away"):
        AttemptLog(tmp_path / "log.json").earlier("01_data")


def test_the_markdown_record_adds_earlier_executions_to_the_wall_time():
    environment = {"profile": "study", "profile_description": "d", "data": "essen", "date_utc": "now",
                   "platform": "Linux", "cpu_count": 2, "processor": "x86_64", "python": "3.11",
                   "keras_backend": "tensorflow", "packages": {}, "fluidsynth": None}
    results = [NotebookResult("01_data", "ok", 60.0, "a"),
               NotebookResult("02_layers", "ok", 3600.0, "b", earlier_attempts=2, earlier_seconds=5400.0)]
    text = _markdown_record(environment, results)
    assert "| 02_layers | ran | 2 h 30 min (this execution 1 h 0 min + 2 earlier, killed or resumed, of 1 h 30 min) |" in text
    assert "| **all notebooks** | | **2 h 31 min** |" in text
    assert "Grid training" not in text
    trained = _markdown_record({**environment, "grid_training": "45 of 45 runs finished"}, results)
    assert "| Grid training | 45 of 45 runs finished |" in trained


def test_a_relative_log_stays_put_while_papermill_runs_a_notebook_from_its_own_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notebooks").mkdir()
    log = AttemptLog("runs/reproduce-smoke.attempts.json", heartbeat_seconds=0.05)
    with log.attempt("02_layers") as attempt:
        monkeypatch.chdir(tmp_path / "notebooks")  # what papermill.execute_notebook(cwd=...) does to this process
        time.sleep(0.2)  # heartbeats
        attempt["status"] = "ok"
    assert sorted(path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file()) == [
        "runs/reproduce-smoke.attempts.json"]
    assert [entry["status"] for entry in AttemptLog(tmp_path / "runs" / "reproduce-smoke.attempts.json").entries()] == ["ok"]
