"""The command line's contract: one vocabulary of flags, a user error is one line and exit status 2,
any other exception shows its traceback."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from musiclib.cli import _build_parser, main
from musiclib.models.settings import TrainConfig

ROOT = Path(__file__).resolve().parents[1]


def _command(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "musiclib", *arguments], check=False, capture_output=True, text=True, env=environment, cwd=cwd
    )


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["evaluate", "--data_dir", "no/such/folder"], "error: source 'no/such/folder' is neither a bundled corpus"),
        (["evaluate", "--max_songs", "many"], "error: argument --max_songs: invalid int value: 'many'"),
        (["evaluate", "--dataset", "essen"], "error: unrecognized arguments: --dataset essen"),
    ],
)
def test_a_user_error_is_one_line_and_exit_status_2(arguments, message, tmp_path):
    finished = _command(*arguments, cwd=tmp_path)
    assert finished.returncode == 2
    assert len(finished.stderr.splitlines()) == 1 and finished.stderr.startswith(message), finished.stderr


def test_a_profile_that_does_not_parse_is_one_line_and_exit_status_2(tmp_path, capsys):
    profile = tmp_path / "broken.toml"
    profile.write_text("[train\nrnn_size = 8\n")
    assert main(["grid", "--profile", str(profile), "--status"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: profile file {profile} is not valid TOML: "), lines


@pytest.mark.slow  # a fresh interpreter loading TensorFlow: about 10 s
def test_an_unexpected_error_shows_its_traceback(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "complete.json").write_text("{}")
    (run_dir / "config.json").write_text('{"model": "lstm",')  # cut off mid-write: not a user's mistake
    finished = _command("generate", "--run_dir", str(run_dir), cwd=tmp_path)
    assert finished.returncode == 1
    assert "Traceback (most recent call last)" in finished.stderr
    assert "json.decoder.JSONDecodeError" in finished.stderr


def test_an_unexpected_error_is_not_turned_into_a_usage_error(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "complete.json").write_text("{}")
    (run_dir / "config.json").write_text('{"model": "lstm",')
    with pytest.raises(json.JSONDecodeError):
        main(["generate", "--run_dir", str(run_dir)])


def test_every_training_setting_is_a_train_flag_with_the_settings_default(monkeypatch, capsys):
    args = _build_parser().parse_args(["train"])
    assert all(getattr(args, name) is None for name in TrainConfig().to_dict())  # absent: TrainConfig's default
    monkeypatch.setenv("COLUMNS", "1000")  # one line per flag
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    entries = capsys.readouterr().out.split("\n  --")[1:]  # one per flag, its help after it
    line_of = {f"--{entry.split()[0]}": " ".join(entry.split()) for entry in entries}
    for name in TrainConfig().to_dict():
        flag = "--random_seed" if name == "seed" else f"--{name}"  # --seed is seed notes, as in sample.py
        assert "(default " in line_of[flag], flag
    assert line_of["--num_epochs"].endswith("(default 300 control / 300 interval / 50 db12)")
    assert line_of["--xla"].endswith("(default auto)") and line_of["--onednn"].endswith("(default on)")
    assert _build_parser().parse_args(["train", "--onednn", "off", "--xla", "on"]).onednn is False


def test_one_spelling_of_the_data_source_and_of_the_seeds():
    parser = _build_parser()
    for command in ("evaluate", "train", "prepare", "grid", "reproduce"):
        assert parser.parse_args([command, "--data_dir", "oneill"]).data_dir == "oneill"
    reproduce = parser.parse_args(["reproduce", "--random_seed", "3", "--no_build"])
    assert (reproduce.random_seed, reproduce.build) == (3, False)
    generate = parser.parse_args(["generate", "--run_dir", "r", "--seed", "60 62", "--random_seed", "4"])
    assert (generate.seed, generate.random_seed) == ("60 62", 4)
