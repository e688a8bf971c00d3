"""The published edition and the pages the book shows (musiclib.book.edition), on small real notebooks,
and an edition published from the tiny trained grid (its models, songs and zip)."""

import json
import re
import shutil
import zipfile

import nbformat
import pytest

from musiclib import cli
from musiclib.book import edition
from musiclib.book.edition import EditionError
from musiclib.chapters.generation.analysis import generate_for_selected


def _reproduction(folder, profile, *, statuses=None, date="2026-11-26 10:00 UTC", parameters=None):
    """An executed-notebooks folder as `reproduce` leaves it: notebooks (with the papermill
    ``parameters`` they were executed with, if given) and a run record."""
    statuses = statuses or {"01_data": "ok", "02_layers": "ok"}
    folder.mkdir(parents=True)
    for name in statuses:
        notebook = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_markdown_cell(f"# {name}"),
            nbformat.v4.new_code_cell("print(1)"),
        ])
        if parameters is not None:
            notebook.metadata["papermill"] = {"parameters": parameters}
        nbformat.write(notebook, folder / f"{name}.ipynb")
    record = {
        "environment": {"profile": profile, "date_utc": date, "platform": "Linux-x86_64", "cpu_count": 2,
                        "python": "3.11.7"},
        "notebooks": [{"name": name, "status": status, "seconds": 60.0} for name, status in statuses.items()],
        "total_seconds": 3900.0,
    }
    (folder / "run_record.json").write_text(json.dumps(record))
    (folder / "run_record.md").write_text(f"| Profile | {profile} |\n")
    (folder / "departures.md").write_text(f"| Setting | Paper | Profile `{profile}` |\n")
    return folder


def test_provenance_names_profile_date_machine_and_time():
    record = {"environment": {"profile": "study", "date_utc": "2026-11-26 10:00 UTC", "platform": "Linux-x86_64",
                              "cpu_count": 2, "python": "3.11.7"}, "total_seconds": 3 * 3600 + 12 * 60}
    text = edition.provenance_text(record)
    assert "**study**" in text and "2026-11-26 10:00 UTC" in text and "Linux-x86_64" in text
    assert "2 CPU cores" in text and "3 h 12 min" in text
    record["environment"]["profile_description"] = "All of Essen, 45 runs."
    assert edition.provenance_text(record).endswith("3 h 12 min of notebook execution in all. All of Essen, 45 runs.")


def test_pages_come_from_the_edition_when_nothing_was_reproduced(tmp_path):
    _reproduction(tmp_path / "edition", "study")
    assert edition.assemble_pages(tmp_path) == tmp_path / "edition"
    page = nbformat.read(tmp_path / "pages" / "01_data.ipynb", as_version=4)
    assert page.cells[0].source == "# 01_data"  # the title stays first
    assert edition.PROVENANCE_TAG in page.cells[1].metadata["tags"] and "**study**" in page.cells[1].source
    assert (tmp_path / "pages" / "run_record.md").read_text() == "| Profile | study |\n"
    assert (tmp_path / "pages" / "departures.md").read_text() == "| Setting | Paper | Profile `study` |\n"
    assert "**study**" in (tmp_path / "pages" / "provenance.md").read_text()


def test_a_reproduction_replaces_the_edition_in_the_pages_but_not_on_disk(tmp_path):
    _reproduction(tmp_path / "edition", "study")
    _reproduction(tmp_path / "executed", "smoke", statuses={"01_data": "ok"})
    before = (tmp_path / "edition" / "01_data.ipynb").read_bytes()
    edition.assemble_pages(tmp_path)
    assert sorted(path.name for path in (tmp_path / "pages").glob("*.ipynb")) == ["01_data.ipynb"]
    assert "**smoke**" in (tmp_path / "pages" / "provenance.md").read_text()
    assert (tmp_path / "edition" / "01_data.ipynb").read_bytes() == before


def test_assembling_twice_keeps_one_provenance_cell(tmp_path):
    _reproduction(tmp_path / "edition", "study")
    edition.assemble_pages(tmp_path)
    edition.assemble_pages(tmp_path)
    page = nbformat.read(tmp_path / "pages" / "02_layers.ipynb", as_version=4)
    assert sum(edition.PROVENANCE_TAG in cell.metadata.get("tags", []) for cell in page.cells) == 1
    assert not list(tmp_path.glob(".pages*"))


def test_no_executed_notebooks_is_a_clear_error(tmp_path):
    with pytest.raises(EditionError, match="make reproduce"):
        edition.assemble_pages(tmp_path)


def _publish(book_dir, **options):
    return edition.publish_edition(book_dir, generate_songs=generate_for_selected, **options)


def _tiny_parameters(tiny):
    """The papermill parameters `reproduce` gives the notebooks of a tiny-profile reproduction."""
    _, runs_dir, _, _ = tiny
    return {"profile": str(runs_dir.parent / "tiny.toml"), "data_source": None, "runs_dir": str(runs_dir), "seed": 0}


@pytest.fixture(scope="module")
def published(tiny, tmp_path_factory):
    """A book folder whose edition was published from a reproduction of the tiny trained grid (the
    reproduction removed afterwards)."""
    book_dir = tmp_path_factory.mktemp("book")
    _reproduction(book_dir / "edition", "quick")
    _reproduction(book_dir / "executed", "tiny", parameters=_tiny_parameters(tiny))
    (book_dir / "executed" / "03_generation.failed.ipynb").write_text("{}")  # debugging leftovers stay out
    _publish(book_dir, profile="tiny")
    shutil.rmtree(book_dir / "executed")  # as in a fresh clone: the pages come from the edition
    return book_dir


@pytest.mark.slow
def test_publishing_copies_a_finished_reproduction_with_its_models_and_songs(published):
    folder = published / "edition"
    assert sorted(path.name for path in folder.iterdir()) == [
        "01_data.ipynb", "02_layers.ipynb", "departures.md", "models", "run_record.json", "run_record.md", "songs",
        "songs.zip"]
    assert edition.read_run_record(folder)["environment"]["profile"] == "tiny"
    assert not list(published.glob(".edition*"))


@pytest.mark.slow
def test_the_edition_holds_the_selected_models_as_slim_loadable_runs(tiny, published):
    from musiclib.experiments.selection import select_layers, selected_runs
    from musiclib.models.generate import generate
    from musiclib.models.train import load_run

    _, _, _, result = tiny
    selection = select_layers(result)
    runs = selected_runs(result, selection)
    models = published / "edition" / "models"
    names = sorted(f"control-{cell}-{int(layers)}" for cell, layers in zip(selection["cell"], selection["num_layers"]))
    assert sorted(path.name for path in models.iterdir() if path.is_dir()) == names and len(names) == 2
    for (variant, cell), run in runs.items():
        folder = models / f"{variant}-{cell}-{run.config.num_layers}"
        assert sorted(path.name for path in folder.iterdir()) == [
            "best.keras", "complete.json", "config.json", "history.json", "manifest.json", "vocab.json"]
        assert (folder / "best.keras").read_bytes() == (run.run_dir / "best.keras").read_bytes()
        manifest = json.loads((folder / "manifest.json").read_text())
        assert manifest["profile"] == "tiny" and manifest["source_run"] == str(run.run_dir)
        rows = selection.to_dict(orient="records")
        (row,) = [row for row in rows if (row["variant"], row["cell"]) == (variant, cell)]
        assert manifest["selection"]["num_layers"] == row["num_layers"] == run.config.num_layers
        assert manifest["selection"]["paper_num_layers"] == row["paper_num_layers"]
        assert sorted(entry["num_layers"] for entry in manifest["runs"]) == [1, 2]
        assert {entry["cell"] for entry in manifest["runs"]} == {cell}
        copy = load_run(folder)
        assert "steps" not in copy.history and copy.history["epochs"] == run.history["epochs"]
        same = {"n_notes": 8, "n_songs": 3, "rng": 5}
        assert generate(copy, "60 62", **same) == generate(run, "60 62", **same)
    assert edition.folder_megabytes(models) < 0.5  # 8-unit models: a few kB of weights each
    assert "| `control-lstm-" in (models / "README.md").read_text()


@pytest.mark.slow
def test_the_edition_holds_chapter_3s_songs_as_midi_files_and_one_zip(tiny, published):
    from musiclib.experiments.selection import select_layers, selected_runs

    profile, _, _, result = tiny
    songs = generate_for_selected(profile, selected_runs(result, select_layers(result)), seed=0)
    folder = published / "edition"
    for (variant, cell), model_songs in songs.items():
        (model_folder,) = (folder / "songs").glob(f"{variant}-{cell}-*")
        written = json.loads((model_folder / "songs.json").read_text())
        assert written["songs"] == model_songs and len(model_songs) == profile.generation.n_songs == 6
        assert all(len(song) == 4 + profile.generation.n_notes for song in model_songs)
        assert written["random_seed"] == 0 and written["seed"] == "60 62 64 62"
        assert len(list(model_folder.glob("song_*.mid"))) == 6
    with zipfile.ZipFile(folder / "songs.zip") as bundle:
        names = bundle.namelist()
        first = next(name for name in names if name.endswith("song_000.mid"))
        assert bundle.read(first) == (folder / first).read_bytes()
    assert len(names) == 2 * (6 + 1) and all(name.startswith("songs/") for name in names)


@pytest.mark.slow
def test_an_edition_over_its_size_limit_is_refused_and_the_old_one_kept(tiny, tmp_path):
    _reproduction(tmp_path / "edition", "quick")
    _reproduction(tmp_path / "executed", "tiny", parameters=_tiny_parameters(tiny))
    with pytest.raises(EditionError, match=r"over its limit of 0.01 MB"):
        _publish(tmp_path, profile="tiny", max_megabytes=0.01)
    assert edition.read_run_record(tmp_path / "edition")["environment"]["profile"] == "quick"
    assert not (tmp_path / "edition" / "models").exists() and not list(tmp_path.glob(".edition*"))


@pytest.mark.slow
def test_the_pages_link_the_editions_songs_for_download(published):
    edition.assemble_pages(published)
    pages = published / "pages"
    assert (pages / "songs.zip").read_bytes() == (published / "edition" / "songs.zip").read_bytes()
    text = (pages / "downloads.md").read_text()
    assert "The 2 selected models of this edition" in text and "`control-lstm-" in text
    assert f"{{download}}`Download the 12 generated songs as MIDI files </{published.name}/pages/songs.zip>`" in text


def test_publishing_needs_the_runs_the_reproduction_trained(tmp_path):
    from conftest import TINY_PROFILE, write_profile

    parameters = {"profile": str(write_profile(tmp_path, TINY_PROFILE)), "runs_dir": str(tmp_path / "runs"), "seed": 0}
    _reproduction(tmp_path / "executed", "tiny", parameters=parameters)
    with pytest.raises(EditionError, match=r"4 of the 4 runs of the tiny grid are not finished in .*runs.*--runs_dir"):
        _publish(tmp_path, profile="tiny")
    assert not (tmp_path / "edition").exists()


def test_publishing_a_reproduction_that_recorded_no_parameters_says_how_to_get_one(tmp_path):
    _reproduction(tmp_path / "executed", "study")
    with pytest.raises(EditionError, match="no notebook in .* records the profile and runs folder"):
        _publish(tmp_path)


def test_the_size_check_refuses_a_folder_over_its_limit(tmp_path):
    (tmp_path / "models" / "control-lstm-1").mkdir(parents=True)
    (tmp_path / "models" / "control-lstm-1" / "best.keras").write_bytes(bytes(30_000))
    (tmp_path / "01_data.ipynb").write_bytes(bytes(5_000))
    assert edition.check_edition_size(tmp_path, 0.04) == pytest.approx(0.035)
    with pytest.raises(EditionError, match=r"would be 0.035 MB \(models 0.03 MB, songs 0 MB, songs.zip 0 MB, "
                       r"notebooks and record 0.005 MB\), over its limit of 0.03 MB"):
        edition.check_edition_size(tmp_path, 0.03)


def test_a_failed_reproduction_is_never_published(tmp_path):
    _reproduction(tmp_path / "edition", "study")
    _reproduction(tmp_path / "executed", "quick", statuses={"01_data": "ok", "02_layers": "failed"})
    with pytest.raises(EditionError, match="02_layers"):
        _publish(tmp_path)
    assert edition.read_run_record(tmp_path / "edition")["environment"]["profile"] == "study"


def test_a_run_of_some_notebooks_is_not_published(tmp_path):
    folder = _reproduction(tmp_path / "executed", "study")
    record = json.loads((folder / "run_record.json").read_text())
    (folder / "run_record.json").write_text(json.dumps({**record, "partial": True}))  # as `reproduce --only` writes it
    with pytest.raises(EditionError, match="reproduce --only"):
        _publish(tmp_path)
    assert not (tmp_path / "edition").exists()


def test_a_record_naming_a_missing_notebook_is_not_published(tmp_path):
    _reproduction(tmp_path / "executed", "study")
    (tmp_path / "executed" / "02_layers.ipynb").unlink()
    with pytest.raises(EditionError, match="02_layers"):
        _publish(tmp_path)
    assert not (tmp_path / "edition").exists()


def test_a_page_the_latest_run_did_not_execute_names_its_own_profile(tmp_path):
    _reproduction(tmp_path / "executed", "quick", statuses={"01_data": "ok", "02_layers": "failed"})
    older = nbformat.read(tmp_path / "executed" / "02_layers.ipynb", as_version=4)
    older.metadata["papermill"] = {"parameters": {"profile": "smoke"}, "end_time": "2026-11-20T09:30:00.1"}
    nbformat.write(older, tmp_path / "executed" / "02_layers.ipynb")
    edition.assemble_pages(tmp_path)
    fresh = nbformat.read(tmp_path / "pages" / "01_data.ipynb", as_version=4).cells[1].source
    stale = nbformat.read(tmp_path / "pages" / "02_layers.ipynb", as_version=4).cells[1].source
    assert "**quick**" in fresh
    assert "**smoke**" in stale and "2026-11-20 09:30" in stale and "failed" in stale and "**quick**" not in stale


def test_a_record_without_departures_says_so_in_the_pages(tmp_path):
    _reproduction(tmp_path / "executed", "quick")
    (tmp_path / "executed" / "departures.md").unlink()
    edition.assemble_pages(tmp_path)
    assert (tmp_path / "pages" / "departures.md").read_text() == edition.NO_DEPARTURES_TEXT
    with pytest.raises(EditionError, match="departures.md"):
        _publish(tmp_path, profile=None)


def test_only_a_study_run_becomes_the_edition(tmp_path, capsys):
    _reproduction(tmp_path / "executed", "quick")
    assert cli.main(["publish", "--book_dir", str(tmp_path)]) == 2
    assert "'quick', not 'study'" in capsys.readouterr().err and not (tmp_path / "edition").exists()


@pytest.mark.slow
def test_the_command_line_publishes_another_profile_when_told_and_reads_a_moved_runs_folder(tiny, tmp_path, capsys):
    parameters = {**_tiny_parameters(tiny), "runs_dir": str(tmp_path / "moved")}
    _reproduction(tmp_path / "executed", "tiny", parameters=parameters)
    assert cli.main(["publish", "--book_dir", str(tmp_path), "--profile", "any"]) == 2
    assert "are not finished in" in capsys.readouterr().err
    assert cli.main(["publish", "--book_dir", str(tmp_path), "--profile", "any", "--runs_dir", str(tiny[1])]) == 0
    out = capsys.readouterr().out
    assert "published the tiny reproduction" in out and re.search(r"models \d+\.\d MB, songs \d+\.\d MB", out)
    assert len(list((tmp_path / "edition" / "songs").rglob("*.mid"))) == 12


def test_an_edition_without_models_says_they_come_with_the_next_one(tmp_path):
    _reproduction(tmp_path / "edition", "study")
    edition.assemble_pages(tmp_path)
    assert not (tmp_path / "pages" / "songs.zip").exists()
    assert "come with the next edition" in (tmp_path / "pages" / "downloads.md").read_text()
    _reproduction(tmp_path / "executed", "quick")
    edition.assemble_pages(tmp_path)
    assert "come from a reproduction" in (tmp_path / "pages" / "downloads.md").read_text()


def test_an_edition_model_is_named_by_variant_and_cell(tmp_path):
    with pytest.raises(EditionError, match="holds no models; the published edition ships its models from the next"):
        edition.edition_model_dir("control-lstm", tmp_path)
    for name in ("control-lstm-2", "control-nas-1"):
        (tmp_path / "edition" / "models" / name).mkdir(parents=True)
        (tmp_path / "edition" / "models" / name / edition.MANIFEST_FILE).write_text("{}")
    assert edition.edition_model_dir("control-lstm", tmp_path).name == "control-lstm-2"
    assert edition.edition_model_dir("control-nas-1", tmp_path).name == "control-nas-1"
    with pytest.raises(EditionError, match=r"--model db12-lstm: not a model of the published edition .*control-lstm, con"):
        edition.edition_model_dir("db12-lstm", tmp_path)


def test_the_book_command_without_reproduction_or_edition_says_how_to_get_one(tmp_path, capsys):
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\n")
    (tmp_path / "book").mkdir()
    assert cli.main(["book", "--book_dir", str(tmp_path / "book")]) == 2
    error = capsys.readouterr().err
    assert "no edition has been published" in error and "make reproduce" in error
    assert not (tmp_path / "book" / "pages").exists() and not (tmp_path / "_build").exists()


def test_the_book_command_outside_a_book_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["book", "--book_dir", str(tmp_path / "book")]) == 2
    assert "has no _toc.yml" in capsys.readouterr().err
