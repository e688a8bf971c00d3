"""Atomic writes: a failed write leaves the old file and no temporary behind."""

import json

import pytest

from musiclib.common.files import (
    atomic_path,
    temporary_sibling,
    write_json_atomic,
    write_text_atomic,
)


def test_write_replaces_content_and_creates_the_folder(tmp_path):
    target = tmp_path / "new" / "result.json"
    write_json_atomic(target, {"loss": 1.5})
    write_json_atomic(target, {"loss": 0.5}, indent=1)
    assert json.loads(target.read_text()) == {"loss": 0.5}
    assert sorted(path.name for path in target.parent.iterdir()) == ["result.json"]


def test_a_failing_writer_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = write_text_atomic(tmp_path / "history.json", "old")
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_path(target) as partial:
            partial.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["history.json"]


def test_temporary_name_keeps_the_ending_and_is_hidden(tmp_path):
    partial = temporary_sibling(tmp_path / "step-0000250_loss-2.19148.weights.h5")
    assert partial.parent == tmp_path
    assert partial.name.startswith(".") and partial.name.endswith(".weights.h5")
    assert partial != temporary_sibling(tmp_path / "step-0000250_loss-2.19148.weights.h5")
