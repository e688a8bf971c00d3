"""The book: every notebook executes with the smoke profile, the book builds, and its pages render in
headless Chromium with tables, figures, sheet music, audio players and no JavaScript errors.

The session fixture copies the book's sources (``_config.yml``, ``_toc.yml``, ``.gitignore``,
``book/``) into a temporary folder, commits them to a new git repository there and runs
``reproduce(profile="smoke")`` there once, with a temporary runs folder, so the test never touches
the ``book/executed``, ``book/pages`` or ``runs`` of the working tree, and can check that
everything the build writes is ignored by git.
"""

import contextlib
import dataclasses
import functools
import http.server
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml
from bs4 import BeautifulSoup

from musiclib.book import edition, reproduce
from musiclib.book.run_record import RUN_RECORD_MARKDOWN
from musiclib.chapters.generation.analysis import generate_for_selected
from musiclib.experiments.grid import grid_points
from musiclib.experiments.profiles import load_profile
from musiclib.outputs import sound

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(path.stem for path in (ROOT / "notebooks").glob(edition.NOTEBOOK_PATTERN))
BOOK_SOURCES = shutil.ignore_patterns(edition.EXECUTED_FOLDER, edition.PAGES_FOLDER, edition.EDITION_FOLDER)
# What each experiment page must show at least (figures, sheet-music SVGs, audio players when
# fluidsynth is installed); the notebooks show more. Tables are checked by their numbers
# (test_the_generation_page_shows_its_tables_computed_from_its_runs, ...).
PAGE_CONTENT = {
    "01_data": {"figures": 2, "scores": 1, "players": 1},
    "02_layers": {"figures": 1, "scores": 0, "players": 0},
    "03_generation": {"figures": 1, "scores": 1, "players": 1},
    "04_embeddings": {"figures": 2, "scores": 0, "players": 0},
    "05_cross_entropy": {"figures": 2, "scores": 5, "players": 5},
    "06_playground": {"figures": 0, "scores": 3, "players": 3},
}
MATHJAX_CDN_PATH = "npm/mathjax@3"
pytestmark = pytest.mark.slow


def _toc_files(root: Path) -> list[str]:
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    return [toc["root"], *[chapter["file"] for chapter in toc["chapters"]]]


def _git(root: Path, *arguments: str) -> str:
    command = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org", *arguments]
    return subprocess.run(command, cwd=root, check=True, capture_output=True, text=True).stdout


def _copy_book_sources(root: Path) -> None:
    """The book's sources (no executed notebooks, pages or edition) in ``root``, committed to git."""
    for name in ("_config.yml", "_toc.yml", ".gitignore"):
        shutil.copy(ROOT / name, root)
    shutil.copytree(ROOT / "book", root / "book", ignore=BOOK_SOURCES)
    if shutil.which("git"):
        _git(root, "init", "-q")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "the book's sources")


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """(book root, Reproduction) of one smoke-profile reproduction in a temporary folder."""
    root = tmp_path_factory.mktemp("book")
    _copy_book_sources(root)
    console = io.StringIO()
    with contextlib.redirect_stdout(console):
        outcome = reproduce.reproduce(
            "smoke", notebooks_dir=ROOT / "notebooks", book_dir=root / "book", runs_dir=root / "runs"
        )
    (root / "_build").mkdir(exist_ok=True)
    (root / "_build" / "console.txt").write_text(console.getvalue())  # _build is ignored by git
    return root, outcome


def test_the_toc_lists_every_notebook_as_a_page():
    chapters = [Path(name) for name in _toc_files(ROOT)]
    pages = [path.name for path in chapters if path.parent.name == edition.PAGES_FOLDER]
    assert pages == NOTEBOOKS
    assert set(PAGE_CONTENT) == set(NOTEBOOKS)


def test_the_pages_are_the_smoke_notebooks_headed_by_their_provenance(built_book):
    root, outcome = built_book
    pages = root / "book" / edition.PAGES_FOLDER
    assert sorted(path.stem for path in pages.glob(edition.NOTEBOOK_PATTERN)) == NOTEBOOKS
    for name in NOTEBOOKS:
        cells = nbformat.read(pages / f"{name}.ipynb", as_version=4).cells
        assert cells[0].source.startswith("# ")  # the title stays first
        assert edition.PROVENANCE_TAG in cells[1].metadata["tags"] and "**smoke**" in cells[1].source, name
    assert (pages / "departures.md").read_text().startswith("| Setting | Paper | Profile `smoke` |")
    record = json.loads(outcome.record_path.read_text())
    assert record["files"] == {"departures": "departures.md"}
    runs = len(grid_points(load_profile("smoke")))
    assert record["environment"]["grid_training"].startswith(f"{runs} of {runs} runs finished, 0 started")
    assert "| Grid training | " in outcome.record_path.with_suffix(".md").read_text()
    intro = (root / "_build" / "html" / "book" / "intro.html").read_text()
    assert "Profile <code class=\"docutils literal notranslate\"><span class=\"pre\">smoke</span></code>" in intro
    assert "<strong>smoke</strong>" in intro  # the provenance line


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_status_stays_clean_after_reproduce_and_book(built_book):
    root, outcome = built_book
    assert outcome.ok
    assert _git(root, "status", "--porcelain", "--untracked-files=all") == ""


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_the_book_command_renders_the_edition_without_training(built_book, tmp_path):
    reproduction, _ = built_book
    root = tmp_path / "clone"
    root.mkdir()
    _copy_book_sources(root)
    shutil.copytree(reproduction / "book" / edition.EXECUTED_FOLDER, root / "book" / edition.EXECUTED_FOLDER)
    edition.publish_edition(root / "book", profile="smoke", generate_songs=generate_for_selected)
    shutil.rmtree(root / "book" / edition.EXECUTED_FOLDER)
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "a published edition")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    finished = subprocess.run([sys.executable, "-m", "musiclib", "book"], cwd=root, env=environment,
                              capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert f"pages from: {Path('book') / edition.EDITION_FOLDER}" in finished.stdout
    assert not (root / "runs").exists() and not (root / "book" / edition.EXECUTED_FOLDER).exists()
    page = (root / "_build" / "html" / "book" / "pages" / "02_layers.html").read_text()
    assert "<strong>smoke</strong> profile" in page
    (songs,) = (root / "_build" / "html" / "_downloads").rglob(edition.SONGS_ZIP)  # the download link works
    assert songs.read_bytes() == (root / "book" / edition.EDITION_FOLDER / edition.SONGS_ZIP).read_bytes()
    reproducibility = (root / "_build" / "html" / "book" / "reproducibility.html").read_text()
    assert f"_downloads/{songs.parent.name}/{edition.SONGS_ZIP}" in reproducibility
    assert _git(root, "status", "--porcelain", "--untracked-files=all") == ""


def test_every_notebook_executes_with_the_smoke_profile(built_book):
    root, outcome = built_book
    assert [result.name for result in outcome.notebooks] == NOTEBOOKS
    failures = {result.name: result.error for result in outcome.notebooks if result.status != "ok"}
    assert not failures
    for name in NOTEBOOKS:
        notebook = nbformat.read(root / "book" / "executed" / f"{name}.ipynb", as_version=4)
        errors = [output for cell in notebook.cells for output in cell.get("outputs", []) if output.output_type == "error"]
        assert not errors, name
        parameters = [cell for cell in notebook.cells if "injected-parameters" in cell.metadata.get("tags", [])]
        assert len(parameters) == 1 and "remove-cell" in parameters[0].metadata["tags"], name
        assert "'smoke'" in parameters[0].source or '"smoke"' in parameters[0].source
    assert not list((root / "book" / "executed").glob("*.failed.ipynb"))
    assert not list((root / "book" / "executed").glob(".*"))  # no temporary files left


def test_the_console_shows_one_line_per_training_run_and_nothing_else(built_book):
    root, outcome = built_book
    lines = (root / "_build" / "console.txt").read_text().splitlines()
    finished = re.compile(r"  \[musiclib\] run (\d)/9 trained: (control|interval|db12) (lstm|nas|ugrnn), 1 layer \(.+\)")
    trained = [finished.fullmatch(line).groups() for line in lines if finished.fullmatch(line)]
    assert [run for run, _, _ in trained] == [str(run) for run in range(1, 10)]  # smoke trains one run at a time
    assert len({(variant, cell) for _, variant, cell in trained}) == 9
    assert all(line.startswith(("[reproduce] ", "  [musiclib] ")) for line in lines), lines
    noise = [line for line in lines if "tensorflow" in line.lower() or "warning" in line.lower() and "[reproduce] book:" not in line]
    assert not noise
    assert not outcome.build_warnings


def test_the_api_page_documents_the_modules(built_book):
    root, outcome = built_book
    page = (root / "_build" / "html" / "book" / "api.html").read_text()
    for name in ("musiclib.experiments.grid.run_grid", "musiclib.chapters.layers.findings.layer_findings", "musiclib.chapters.layers.figures.plot_learning_curves"):
        assert f'id="{name}"' in page, name
    assert "MathJax" in page or "mathjax" in page  # formulas typeset
    assert not [warning for warning in outcome.build_warnings if "api" in warning]


def test_the_run_record_names_the_environment_and_every_notebook(built_book):
    root, outcome = built_book
    record = json.loads(outcome.record_path.read_text())
    assert record["environment"]["profile"] == "smoke"
    assert record["environment"]["cpu_count"] == os.cpu_count()
    assert "keras" in record["environment"]["packages"] and "music21" in record["environment"]["packages"]
    assert [entry["name"] for entry in record["notebooks"]] == NOTEBOOKS
    assert record["total_seconds"] == pytest.approx(sum(entry["seconds"] for entry in record["notebooks"]))
    page = (root / "_build" / "html" / "book" / "reproducibility.html").read_text()
    for name in NOTEBOOKS:
        assert name in page
    assert "smoke" in page and record["environment"]["python"] in page


def test_the_book_builds_every_page_without_warnings_or_tracebacks(built_book):
    root, outcome = built_book
    assert outcome.build_error is None
    assert outcome.book_index == root / "_build" / "html" / "index.html"
    assert not [warning for warning in outcome.build_warnings if "nonexisting document" in warning]
    assert json.loads(outcome.record_path.read_text())["build_warnings"] == outcome.build_warnings
    for name in _toc_files(root):
        page = root / "_build" / "html" / f"{name}.html"
        assert page.is_file(), name
        text = page.read_text()
        if name == "book/api":  # documents the functions that deal with warnings: words, not warnings
            continue
        for marker in ("Traceback", "Warning:", "WARNING", "DeprecationWarning"):
            assert marker not in text, (name, marker)


@dataclasses.dataclass
class ShownTable:
    """A table as a built page shows it: its caption, column headings and cell texts."""

    caption: str
    columns: list[str]
    rows: list[list[str]]


def _page_tables(root: Path, name: str) -> list[ShownTable]:
    """The tables of the built page ``book/pages/<name>.html``, in page order."""
    html = (root / "_build" / "html" / "book" / edition.PAGES_FOLDER / f"{name}.html").read_text()
    article = BeautifulSoup(html, "html.parser").find("article")
    return [
        ShownTable(
            caption=table.caption.get_text(" ", strip=True) if table.caption else "",
            columns=[cell.get_text(strip=True) for cell in table.thead.find_all("th")],
            rows=[[cell.get_text(strip=True) for cell in row.find_all("td")] for row in table.tbody.find_all("tr")],
        )
        for table in article.find_all("table")
    ]


def _assert_shows(shown: ShownTable, expected: pd.DataFrame, *, precision: int = 2) -> None:
    """``shown`` holds the columns and rows of ``expected``: texts equal, numbers equal to the
    ``precision`` decimals the page shows (thousands separated by commas, missing numbers blank)."""
    assert shown.columns == [str(column) for column in expected.columns]
    assert len(shown.rows) == len(expected), shown.caption
    for text_row, values in zip(shown.rows, expected.itertuples(index=False)):
        for column, text, value in zip(shown.columns, text_row, values):
            where = (shown.caption[:40], column, text_row)
            if isinstance(value, (float, np.floating)) and np.isnan(value):
                assert text == "", where
            elif isinstance(value, (float, np.floating)):
                assert float(text.replace(",", "")) == pytest.approx(value, abs=0.5 * 10**-precision + 1e-9), where
            elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
                assert int(text.replace(",", "")) == value, where
            else:
                assert text == str(value), where


def _mean_std(mean: float, std: float) -> str:
    return f"{mean:.2f} ± {std:.2f}"


def test_the_generation_page_shows_its_tables_computed_from_its_runs(built_book):
    """Every table of 03_generation equals musiclib's computation from the reproduction's runs (the
    calls the notebook makes), and TABLE III / IV show the paper's numbers of published_tables.json."""
    from musiclib import published
    from musiclib.chapters.generation import analysis, replicates, tables
    from musiclib.experiments import selection
    from musiclib.experiments.grid import load_data, run_grid
    from musiclib.measures.metrics import METRICS

    root, _ = built_book
    settings, seed = load_profile("smoke"), 0
    data = load_data(settings)
    result = run_grid(settings, root / "runs", data=data)  # every run finished: loaded, not trained
    chosen_depths = selection.select_layers(result)
    songs = analysis.generate_for_selected(settings, selection.selected_runs(result, chosen_depths), seed=seed)
    per_song = analysis.song_metrics(songs)
    representative = analysis.most_representative_songs(per_song, songs)
    tested = analysis.chapter_tests(songs, per_song, data.splits, seed=seed)
    study = replicates.replicate_study(settings, root / "runs", chosen_depths, data=data, seed=seed)
    expected = [
        tables.table_iii_table(analysis.metrics_summary(per_song)),
        tables.rank_agreement_table(tested.agreement),
        tables.table_iv_table(representative),
        tables.baseline_deviation_table(tested.deviations),
        tables.seed_interval_table(study.intervals),
        tables.cell_contrast_table(study.contrasts),
        study.summary,
        tables.copying_table(tested.copying),
    ] + ([tables.flagged_songs_table(tested.check.flagged)] if len(tested.check.flagged) else [])

    shown = _page_tables(root, "03_generation")
    assert [table.columns for table in shown] == [[str(column) for column in table.columns] for table in expected]
    for table, frame in zip(shown, expected):
        _assert_shows(table, frame)

    table_iii, table_iv = shown[0], shown[2]
    assert table_iii.caption == published.citation("table_iii")
    assert published.citation("table_iv") in table_iv.caption
    paper_iii = {(row.metric, row.variant, row.cell): _mean_std(row.mean, row.std)
                 for row in published.table("table_iii").itertuples()}
    assert {tuple(row[:3]): row[3] for row in table_iii.rows} == paper_iii  # all 27 published rows
    paper_iv = published.table("table_iv").set_index(["variant", "cell"])
    assert {tuple(row[:2]) for row in table_iv.rows} == set(paper_iv.index)
    for row in table_iv.rows:
        for metric, text in zip(METRICS, row[2:2 + len(METRICS)]):
            assert float(text) == paper_iv.loc[tuple(row[:2]), metric], (row, metric)  # 2 decimals, as published


def test_the_data_page_shows_its_tables_computed_from_the_corpus(built_book):
    """The tables of 01_data equal musiclib's computation from the smoke profile's data, and TABLE I
    shows the paper's numbers of published_tables.json."""
    from musiclib import published
    from musiclib.chapters.data import tables
    from musiclib.experiments.grid import load_data
    from musiclib.measures import baseline

    data = load_data(load_profile("smoke"))
    expected = [tables.corpus_table(data), tables.toy_variant_table(), tables.vocabulary_table(data),
                tables.dataset_baseline_table(baseline.dataset_metrics(data), seed=0)]
    shown = _page_tables(built_book[0], "01_data")
    assert [table.columns for table in shown] == [[str(column) for column in table.columns] for table in expected]
    for table, frame in zip(shown, expected):
        _assert_shows(table, frame)
    paper = {row.metric: _mean_std(row.mean, row.std) for row in published.table("table_i").itertuples()}
    assert {row[0]: row[1] for row in shown[3].rows} == paper
    assert published.citation("table_i") in shown[3].caption


def test_the_layers_page_shows_its_tables_computed_from_its_runs(built_book):
    """The tables of 02_layers equal musiclib's computation from the reproduction's runs, and the
    published learning curve shows the paper's losses of published_tables.json."""
    from musiclib import published
    from musiclib.chapters.layers import depths, tables, yardsticks
    from musiclib.experiments import selection
    from musiclib.experiments.grid import load_data, run_grid

    root, _ = built_book
    settings = load_profile("smoke")
    data = load_data(settings)
    result = run_grid(settings, root / "runs", data=data)  # every run finished: loaded, not trained
    losses = selection.final_losses(result)
    summary = selection.depth_summary(losses)
    chosen_depths = selection.select_layers(result)
    held_out = yardsticks.held_out_table(data, chosen_depths, selection.selected_runs(result, chosen_depths), seed=0)
    expected = [tables.depth_table(summary, chosen_depths), tables.depth_choice_table(selection.choose_depths(summary)),
                tables.depth_contrast_table(depths.depth_contrasts(losses, chosen_depths)),
                tables.selection_rules_table(depths.selection_rules(result)),
                tables.published_curve_table(depths.training_loss_at_common_epoch(result), summary),
                tables.held_out_display(held_out)]  # fmt: skip
    shown = _page_tables(root, "02_layers")
    settings_table = tables.training_settings_table(settings)
    assert [table.columns for table in shown] == [[str(column) for column in table.columns]
                                                  for table in (settings_table, *expected)]
    _assert_shows(shown[0], settings_table)
    for table, frame in zip(shown[1:], expected):
        _assert_shows(table, frame, precision=3)
    paper = published.table("control_lstm_learning_curve")
    curve = {int(row[0]): row[1] for row in shown[5].rows}
    assert {layers: float(curve[layers]) for layers in paper["num_layers"]} == dict(zip(paper["num_layers"], paper["train_loss"]))


def _assert_page_shows(root: Path, name: str, expected: list[tuple[pd.DataFrame, int]]) -> None:
    """The built page ``name`` shows exactly the tables of ``expected`` ((frame, precision) each), in order."""
    shown = _page_tables(root, name)
    assert [table.columns for table in shown] == [[str(column) for column in frame.columns] for frame, _ in expected]
    for table, (frame, precision) in zip(shown, expected):
        _assert_shows(table, frame, precision=precision)


def test_the_embeddings_page_shows_its_tables_computed_from_its_runs(built_book):
    """Every table of 04_embeddings equals musiclib's computation from the reproduction's runs (the
    calls the notebook makes: the permutation tests and the t-SNE layouts with the same seeds)."""
    from musiclib.chapters.embeddings import study
    from musiclib.experiments import selection
    from musiclib.experiments.grid import load_data, run_grid
    from musiclib.measures import embedding_tests

    root, _ = built_book
    settings, seed = load_profile("smoke"), 0
    data = load_data(settings)
    result = run_grid(settings, root / "runs", data=data)  # every run finished: loaded, not trained
    chosen = study.embedding_models(result, selection.select_layers(result))
    embeddings = study.load_embeddings(chosen, data)
    statements = study.paper_statements(embeddings)
    family = study.variant_tests(embeddings, n_permutations=settings.embeddings.n_permutations, seed=seed)
    transposition = study.transposition_test(embeddings, n_permutations=settings.embeddings.n_permutations, seed=seed)
    stability = study.stability(embeddings, seeds=settings.embeddings.tsne_seeds, perplexities=settings.embeddings.perplexities)
    _assert_page_shows(root, "04_embeddings", [
        (study.embedding_models_table(chosen), 2), (study.neighbour_tables(embeddings), 3),
        (study.paper_statement_table(statements), 2), (study.relation_test_table(family), 3),
        (study.robustness_table(embedding_tests.robustness(family)), 2), (study.variant_comparison_table(family), 3),
        (study.transposition_table(transposition), 3), (study.layout_table(stability), 3),
        (study.stability_table(stability), 2),
    ])  # fmt: skip


def test_the_cross_entropy_page_shows_its_tables_computed_from_its_runs(built_book):
    """Every table of 05_cross_entropy equals musiclib's computation from the reproduction's runs."""
    from musiclib.chapters.cross_entropy import runs, tables
    from musiclib.experiments.grid import load_data

    root, _ = built_book
    settings, seed = load_profile("smoke"), 0
    data = load_data(settings)
    study = runs.cross_entropy_study(runs.run_cross_entropy_seeds(settings, root / "runs", data=data), settings, data, seed=seed)
    _assert_page_shows(root, "05_cross_entropy", [
        (tables.claim_comparison(study.claim), 3), (tables.ngram_table(study.ngram_comparison, study.ngram.order), 3),
        (tables.evolution_table(study.evolution), 3),
    ])  # fmt: skip


def test_the_reproducibility_page_lists_the_profiles_departures_from_the_paper(built_book):
    """The departures table names every setting of musiclib's comparison, bold where smoke departs."""
    from musiclib.book.departures import departures

    html = (built_book[0] / "_build" / "html" / "book" / "reproducibility.html").read_text()
    tables = BeautifulSoup(html, "html.parser").find("article").find_all("table")
    [table] = [table for table in tables if table.thead.get_text(" ", strip=True) == "Setting Paper Profile smoke"]
    settings = [row.find("td") for row in table.tbody.find_all("tr")]
    expected = departures(load_profile("smoke"))
    assert [cell.get_text(strip=True) for cell in settings] == expected["setting"].tolist()
    assert [cell.find("strong") is not None for cell in settings] == expected["departs"].tolist()
    assert expected["departs"].any() and not expected["departs"].all()


def _write_notebooks(folder, sources: dict[str, str]) -> Path:
    """Parameterised one-cell notebooks ``{name: code}`` in ``folder``."""
    folder.mkdir(exist_ok=True)
    for name, source in sources.items():
        parameters = nbformat.v4.new_code_cell("profile = 'quick'\nseed = 0\ndata_source = None\nruns_dir = 'runs'")
        parameters.metadata["tags"] = ["parameters"]
        notebook = nbformat.v4.new_notebook(cells=[parameters, nbformat.v4.new_code_cell(source)])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(notebook, folder / f"{name}.ipynb")
    return folder


def test_a_failing_notebook_is_reported_and_the_others_still_run(tmp_path, capsys):
    notebooks = _write_notebooks(tmp_path / "notebooks", {
        "01_fine": "print(profile, seed)", "02_broken": "raise ValueError('no such corpus')", "03_after": "answer = 42"})
    book = tmp_path / "book"
    (book / "executed").mkdir(parents=True)
    earlier = book / "executed" / "02_broken.ipynb"
    earlier.write_text("earlier output")

    outcome = reproduce.reproduce("smoke", notebooks_dir=notebooks, book_dir=book, runs_dir=tmp_path / "runs",
                                  build=False, progress=False)

    assert [result.status for result in outcome.notebooks] == ["ok", "failed", "ok"]
    assert not outcome.ok and outcome.failed == ["02_broken"]
    assert "ValueError: no such corpus" in outcome.notebooks[1].error
    assert earlier.read_text() == "earlier output"  # the previous executed version is kept
    assert reproduce.failed_copy_path(earlier).is_file()
    fine = nbformat.read(book / "executed" / "01_fine.ipynb", as_version=4)
    assert fine.cells[-1].outputs[0].text.strip() == "smoke 0"
    record = json.loads(outcome.record_path.read_text())
    assert record["notebooks"][1]["status"] == "failed"
    assert "failed" in (book / "executed" / RUN_RECORD_MARKDOWN).read_text()
    assert (book / "executed" / "departures.md").read_text().startswith("| Setting | Paper | Profile `smoke` |")


def test_a_resumed_reproduction_counts_the_time_of_the_executions_before_it(tmp_path):
    """The run record of a reproduction that finishes includes the wall time of the earlier,
    unfinished ones (their training runs were resumed); once every notebook is ok the count restarts."""
    runs = tmp_path / "runs"
    notebooks = _write_notebooks(tmp_path / "notebooks", {"01_wait": "import time; time.sleep(1.5)",
                                                          "02_broken": "raise ValueError('not yet')"})
    run = functools.partial(reproduce.reproduce, "smoke", notebooks_dir=notebooks, book_dir=tmp_path / "book",
                            runs_dir=runs, build=False, progress=False)
    started = time.perf_counter()  # the clock reproduce and the attempt log measure with
    first = run()
    first_wall = time.perf_counter() - started
    assert first.failed == ["02_broken"] and all(result.earlier_attempts == 0 for result in first.notebooks)

    _write_notebooks(notebooks, {"02_broken": "answer = 42"})
    second = run()
    assert second.ok
    waited = second.notebooks[0]
    # the attempt log times the whole attempt, the execution inside it and inside the first reproduction
    assert waited.earlier_attempts == 1
    assert 1.5 <= round(first.notebooks[0].seconds, 1) <= waited.earlier_seconds <= round(first_wall, 1)
    record = json.loads(second.record_path.read_text())
    assert record["total_seconds"] == pytest.approx(sum(r.seconds + r.earlier_seconds for r in second.notebooks))
    assert "+ 1 earlier, killed or resumed" in (tmp_path / "book" / "executed" / RUN_RECORD_MARKDOWN).read_text()
    assert not (runs / "reproduce-smoke.attempts.json").exists()  # finished: archived
    assert len(list(runs.glob("reproduce-smoke.attempts-*.json"))) == 1

    third = run()
    assert [result.earlier_attempts for result in third.notebooks] == [0, 0]
    assert json.loads(third.record_path.read_text())["partial"] is False
    some = run(only=["02_broken"])
    assert json.loads(some.record_path.read_text())["partial"] is True  # publish refuses it (test_edition)


def test_ctrl_c_stops_the_whole_reproduction_and_logs_the_notebook_as_interrupted(tmp_path):
    started, after = tmp_path / "started", tmp_path / "after"
    notebooks = _write_notebooks(tmp_path / "notebooks", {
        "01_long": f"import pathlib, time; pathlib.Path({str(started)!r}).touch(); time.sleep(120)",
        "02_next": f"import pathlib; pathlib.Path({str(after)!r}).touch()"})
    # Python's SIGINT handler first: a shell starts background jobs (`nohup make test &`) with SIGINT ignored
    code = (f"import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
            f"from musiclib.book import reproduce; reproduce.reproduce('smoke', notebooks_dir={str(notebooks)!r}, "
            f"book_dir={str(tmp_path / 'book')!r}, runs_dir={str(tmp_path / 'runs')!r}, build=False, progress=False)")
    child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not started.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.2)
    assert started.exists(), child.stderr.read() if child.poll() is not None else "the notebook never started"
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=120)
    assert child.returncode != 0 and "KeyboardInterrupt" in stderr
    assert not after.exists()  # the next notebook did not run
    log = json.loads((tmp_path / "runs" / "reproduce-smoke.attempts.json").read_text())
    assert [(entry["notebook"], entry["status"]) for entry in log] == [("01_long", "interrupted")]


def test_an_unknown_notebook_name_is_refused(tmp_path):
    with pytest.raises(reproduce.ReproduceError, match="no notebook named"):
        reproduce.reproduce("smoke", notebooks_dir=ROOT / "notebooks", book_dir=tmp_path / "book",
                            only=["99_missing"], build=False, progress=False)
    with pytest.raises(reproduce.ReproduceError, match="does not exist"):
        reproduce.reproduce("smoke", notebooks_dir=tmp_path / "nothing", book_dir=tmp_path / "book", build=False)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *arguments):
        pass


@pytest.fixture(scope="session")
def served_book(built_book):
    """Base URL of the built book served on localhost."""
    html = built_book[0] / "_build" / "html"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


def _open(browser, url):
    """Open ``url``; return the page and the list its JavaScript errors and failed requests go to."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" else None)
    page.on("requestfailed", lambda request: problems.append(f"request failed: {request.url}"))
    page.on("response", lambda response: problems.append(f"HTTP {response.status}: {response.url}")
            if response.status >= 400 else None)
    # MathJax (for the API page's formulas) comes from its CDN, which a test machine may not reach
    page.route(f"**/{MATHJAX_CDN_PATH}/**", lambda route: route.fulfill(status=200, body="", content_type="text/javascript"))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page, problems


AUDIO_DURATIONS = """
audios => Promise.all(audios.map(audio => audio.readyState >= 1 ? audio.duration : new Promise(resolve => {
    audio.addEventListener("loadedmetadata", () => resolve(audio.duration), {once: true});
    audio.addEventListener("error", () => resolve(-1), {once: true});
    audio.load();
})))
"""


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_experiment_pages_show_tables_figures_scores_and_players(browser, served_book, name):
    page, problems = _open(browser, f"{served_book}/book/pages/{name}.html")
    expected = PAGE_CONTENT[name]
    figures = page.eval_on_selector_all(".cell_output img", "images => images.filter(i => i.naturalWidth > 0).length")
    distorted = page.eval_on_selector_all(".cell_output img", """images => images.filter(i =>
        Math.abs(i.clientHeight / i.clientWidth - i.naturalHeight / i.naturalWidth) > 0.02).map(i => i.src)""")
    assert not distorted, f"{name}: figures drawn with a distorted aspect ratio"
    scores = page.eval_on_selector_all("figure.musiclib-melody svg .note", "notes => notes.length")
    assert figures >= expected["figures"], f"{name}: {figures} figures loaded"
    assert page.locator("figure.musiclib-melody").count() >= expected["scores"]
    assert scores >= 4 * expected["scores"], f"{name}: {scores} engraved notes"
    midi_links = page.eval_on_selector_all("a.musiclib-midi", "links => links.map(a => a.href.slice(0, 26))")
    assert all(link == "data:audio/midi;base64,TVR" for link in midi_links)  # "MThd" header
    if sound.audio_available():
        durations = page.eval_on_selector_all("audio", AUDIO_DURATIONS)
        assert len(durations) >= expected["players"], f"{name}: {len(durations)} audio players"
        assert all(duration > 1 for duration in durations), f"{name}: audio durations {durations}"
    assert not problems
    page.close()


def test_intro_reproducibility_and_references_pages_render(browser, served_book, built_book):
    assert "url=book/intro.html" in (built_book[0] / "_build" / "html" / "index.html").read_text()
    page, problems = _open(browser, f"{served_book}/book/intro.html")
    assert "Music RNNs, reproduced" in page.title()
    navigation = page.locator("nav.bd-links a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    for name in NOTEBOOKS:
        assert any(name in link for link in navigation), name
    for path, heading in (("book/reproducibility.html", "Differences from the paper"),
                          ("book/references.html", "References"), ("book/api.html", "API reference")):
        other, other_problems = _open(browser, f"{served_book}/{path}")
        assert other.get_by_role("heading", name=heading).count() >= 1
        problems += other_problems
        other.close()
    assert page.locator("article").inner_text().count("garciavalencia") == 0  # citations resolved
    assert not problems
    page.close()

