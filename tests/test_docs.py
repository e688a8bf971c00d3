"""The written documentation keeps up with the code: the API page lists every module."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_api_page_lists_every_module():
    listed = re.findall(r"\.\. automodule:: musiclib\.(\w+)", (ROOT / "book" / "api.md").read_text())
    modules = {path.stem for path in (ROOT / "musiclib").glob("*.py") if not path.stem.startswith("_")}
    assert sorted(listed) == sorted(modules)  # each module once


def _api_groups() -> dict[str, int]:
    """Module name -> index of its group (``## ...`` section) on the API page."""
    sections = re.split(r"^## ", (ROOT / "book" / "api.md").read_text(), flags=re.M)[1:]
    return {name: index for index, section in enumerate(sections)
            for name in re.findall(r"automodule:: musiclib\.(\w+)", section)}


def test_imports_only_run_downwards_through_the_api_groups():
    group = _api_groups()
    upward = []
    for path in sorted((ROOT / "musiclib").glob("*.py")):
        if path.stem not in group:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("musiclib"):
                names = [alias.name for alias in node.names] if node.module == "musiclib" else [node.module.split(".")[1]]
                upward += [(path.stem, name) for name in names if group.get(name, -1) > group[path.stem]]
    assert not upward  # (module, the later-group module it imports)
