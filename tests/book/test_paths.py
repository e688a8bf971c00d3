"""Relative notebook paths resolve against the repository root from any working folder."""

from pathlib import Path

from musiclib.book.paths import repository_root, resolve_path, resolve_source

ROOT = Path(__file__).resolve().parents[2]


def test_root_is_found_from_the_notebooks_folder_and_the_root(monkeypatch):
    assert repository_root(ROOT / "notebooks") == ROOT
    assert repository_root(ROOT) == ROOT
    monkeypatch.chdir(ROOT / "notebooks")
    assert resolve_path("runs") == ROOT / "runs"
    monkeypatch.chdir(ROOT)
    assert resolve_path("runs") == ROOT / "runs"


def test_absolute_and_none_paths_are_kept(tmp_path):
    assert resolve_path(tmp_path / "x") == tmp_path / "x"
    assert resolve_path(None) is None


def test_outside_a_repository_the_package_checkout_is_the_root(tmp_path):
    # This package is run from a checkout, so its parent is a repository root.
    assert repository_root(tmp_path) == ROOT
    assert resolve_path("runs", start=tmp_path) == ROOT / "runs"


def test_a_data_source_is_resolved_only_when_it_is_a_path(monkeypatch):
    monkeypatch.chdir(ROOT / "notebooks")
    assert resolve_source("tests") == ROOT / "tests"
    assert resolve_source("essen") == "essen"
    assert resolve_source(None) is None
