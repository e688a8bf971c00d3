"""musiclib uses Keras' public API only: no source file names ``keras.src``, Keras' implementation
modules, which change without notice between releases (STYLE.md)."""

from pathlib import Path

import musiclib

PACKAGE = Path(musiclib.__file__).resolve().parent


def test_no_source_file_names_keras_private_modules():
    mentions = [
        f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "keras.src" in line
    ]
    assert len(list(PACKAGE.rglob("*.py"))) > 20  # the package's sources were found
    assert mentions == []
