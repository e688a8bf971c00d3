"""The published edition and the pages the book shows (musiclib.book.edition), on small real notebooks."""

import json

import nbformat
import pytest

from musiclib import cli
from musiclib.book import edition
from musiclib.book.edition import EditionError


def _reproduction(folder, profile, *, statuses=None, date="2026-11-26 10:00 UTC"):
    """An executed-notebooks folder as `reproduce` leaves it: notebooks and a run record."""
    statuses = statuses or {"01_data": "ok", "02_layers": "ok"}
    folder.mkdir(parents=True)
    for name in statuses:
        notebook = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_markdown_cell(f"# {name}"),
            nbformat.v4.new_code_cell("print(1)"),
        ])
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


def test_publishing_copies_a_finished_reproduction(tmp_path):
    _reproduction(tmp_path / "edition", "quick")
    _reproduction(tmp_path / "executed", "study")
    (tmp_path / "executed" / "03_generation.failed.ipynb").write_text("{}")  # debugging leftovers stay out
    published = edition.publish_edition(tmp_path)
    assert sorted(path.name for path in published.iterdir()) == [
        "01_data.ipynb", "02_layers.ipynb", "departures.md", "run_record.json", "run_record.md"]
    assert edition.read_run_record(published)["environment"]["profile"] == "study"


def test_a_failed_reproduction_is_never_published(tmp_path):
    _reproduction(tmp_path / "edition", "study")
    _reproduction(tmp_path / "executed", "quick", statuses={"01_data": "ok", "02_layers": "failed"})
    with pytest.raises(EditionError, match="02_layers"):
        edition.publish_edition(tmp_path)
    assert edition.read_run_record(tmp_path / "edition")["environment"]["profile"] == "study"


def test_a_run_of_some_notebooks_is_not_published(tmp_path):
    folder = _reproduction(tmp_path / "executed", "study")
    record = json.loads((folder / "run_record.json").read_text())
    (folder / "run_record.json").write_text(json.dumps({**record, "partial": True}))  # as `reproduce --only` writes it
    with pytest.raises(EditionError, match="reproduce --only"):
        edition.publish_edition(tmp_path)
    assert not (tmp_path / "edition").exists()


def test_a_record_naming_a_missing_notebook_is_not_published(tmp_path):
    _reproduction(tmp_path / "executed", "study")
    (tmp_path / "executed" / "02_layers.ipynb").unlink()
    with pytest.raises(EditionError, match="02_layers"):
        edition.publish_edition(tmp_path)
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
        edition.publish_edition(tmp_path, profile=None)


def test_only_a_study_run_becomes_the_edition_unless_told_otherwise(tmp_path, capsys):
    _reproduction(tmp_path / "executed", "quick")
    assert cli.main(["publish", "--book_dir", str(tmp_path)]) == 2
    assert "'quick', not 'study'" in capsys.readouterr().err and not (tmp_path / "edition").exists()
    assert cli.main(["publish", "--book_dir", str(tmp_path), "--profile", "any"]) == 0
    assert "published the quick reproduction" in capsys.readouterr().out
    assert edition.read_run_record(tmp_path / "edition")["environment"]["profile"] == "quick"


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
