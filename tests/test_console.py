"""The quiet console: TensorFlow loads without log lines, progress lines reach their file."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from musiclib import console

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # a fresh interpreter loading TensorFlow: about 10 s
def test_tensorflow_loads_without_a_line_on_stderr():
    script = "from musiclib.console import quiet_tensorflow; quiet_tensorflow(); import keras; keras.ops.ones(2)"
    environment = {k: v for k, v in os.environ.items() if k not in console.QUIET_ENVIRONMENT and k != "PYTHONWARNINGS"}
    environment["PYTHONPATH"] = str(ROOT)
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, cwd=ROOT)
    assert finished.returncode == 0, finished.stderr
    assert finished.stderr == ""


def test_progress_lines_go_to_the_file_named_in_the_environment(tmp_path, monkeypatch):
    progress_file = tmp_path / "progress.log"
    monkeypatch.setenv(console.PROGRESS_FILE_VARIABLE, str(progress_file))
    logger = logging.getLogger("musiclib")
    saved = logger.level, logger.propagate, list(logger.handlers)
    try:
        console.show_progress()
        console.show_progress()  # a second call replaces the handler: no doubled lines
        logging.getLogger("musiclib.grid").info("run %d/%d trained", 1, 9)
        logging.getLogger("musiclib.grid").debug("not shown")
    finally:
        for handler in logger.handlers[:]:
            if handler not in saved[2]:
                logger.removeHandler(handler)
                handler.close()
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
    assert progress_file.read_text() == "[musiclib] run 1/9 trained\n"


@pytest.mark.slow
def test_tensorflow_stays_quiet_in_an_interactive_session():
    # TensorFlow resets its logger to INFO on first use when it thinks the session is interactive
    # (sys.ps1 set, as in a Jupyter kernel); its retracing warnings then reached the book's pages.
    script = (
        "import sys; sys.ps1 = '>>> '\n"
        "from musiclib.console import quiet_tensorflow; quiet_tensorflow()\n"
        "import tensorflow as tf\n"
        "tf.get_logger().warning('retracing'); print('done')\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, cwd=ROOT)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "done\n" and "retracing" not in finished.stderr
