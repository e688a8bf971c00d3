"""The API page is the package tree, and the package's layering holds (import-linter)."""

import re
import subprocess
import sys
from pathlib import Path

from musiclib.book.api import PLACEHOLDER, api_markdown, package_modules

ROOT = Path(__file__).resolve().parents[2]


def test_the_api_page_lists_every_module_once_under_its_package():
    on_disk = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in (ROOT / "musiclib").rglob("*.py") if not path.name.startswith("_")
    )
    listed = re.findall(r"^\.\. automodule:: (\S+)$", api_markdown(), flags=re.M)
    assert sorted(listed) == on_disk
    for package, modules in package_modules().items():
        assert all(module.rsplit(".", 1)[0] == package for module in modules)


def test_the_api_page_runs_from_the_bottom_layer_up_and_chapters_in_book_order():
    headings = re.findall(r"^#+ (musiclib\S*)$", api_markdown(), flags=re.M)
    assert headings[:2] == ["musiclib.common", "musiclib.data"]
    chapters = [h.rsplit(".", 1)[1] for h in headings if h.startswith("musiclib.chapters.")]
    assert chapters == ["data", "layers", "generation", "embeddings", "cross_entropy", "playground"]
    assert headings.index("musiclib.models") < headings.index("musiclib.measures") < headings.index("musiclib.book")


def test_the_page_source_has_the_placeholder_the_book_extension_fills():
    assert PLACEHOLDER in (ROOT / "book" / "api.md").read_text()
    assert "automodule" not in (ROOT / "book" / "api.md").read_text()  # no hand-kept list


def test_the_import_linter_contracts_are_kept():
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_readme_tree_names_every_subpackage_and_top_level_module():
    readme = (ROOT / "README.md").read_text()
    tree = readme[readme.index("  musiclib/\n"):]
    tree = tree[:tree.index("  ```")]
    named = set(re.findall(r"^    (\w+(?:/|\.py))", tree, flags=re.M))
    on_disk = {f"{path.name}/" for path in (ROOT / "musiclib").iterdir() if (path / "__init__.py").is_file()}
    on_disk |= {path.name for path in (ROOT / "musiclib").glob("*.py") if not path.name.startswith("_")}
    assert named == on_disk
