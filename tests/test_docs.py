"""The written documentation keeps up with the code: the API page lists every module."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_api_page_lists_every_module():
    listed = re.findall(r"\.\. automodule:: musiclib\.(\w+)", (ROOT / "book" / "api.md").read_text())
    modules = {path.stem for path in (ROOT / "musiclib").glob("*.py") if not path.stem.startswith("_")}
    assert sorted(listed) == sorted(modules)  # each module once
