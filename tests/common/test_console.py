"""The quiet console: TensorFlow loads without log lines, progress lines reach their file."""

import logging
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from musiclib.common import console

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a fresh interpreter loading TensorFlow: about 10 s each
@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"), reason="oneDNN's switch is for x86-64 CPUs")
@pytest.mark.parametrize(
    "user_setting, setting, onednn", [(None, "1", True), ("0", "0", False)], ids=["default", "user-turned-off"]
)
def test_tensorflow_loads_without_a_line_on_stderr_and_with_onednn_as_asked(user_setting, setting, onednn):
    # On by default on every x86-64 CPU (TensorFlow's own default is on only with AVX-512-class
    # features); a user's TF_ENABLE_ONEDNN_OPTS=0 wins. Either way TensorFlow loads silently.
    script = (
        "from musiclib.common import console\n"
        "print(console.onednn_enabled())\n"  # TensorFlow not loaded yet: None
        "console.load_tensorflow_quietly(); import keras; keras.ops.ones(2)\n"
        "import os; from tensorflow.python.util import _pywrap_util_port\n"
        "print(os.environ[console.ONEDNN_VARIABLE], console.onednn_enabled(), _pywrap_util_port.IsMklEnabled())"
    )
    environment = {k: v for k, v in os.environ.items() if k not in console.QUIET_ENVIRONMENT and k != "PYTHONWARNINGS"}
    environment.pop(console.ONEDNN_VARIABLE, None)
    environment.pop("KERAS_BACKEND", None)
    if user_setting is not None:
        environment[console.ONEDNN_VARIABLE] = user_setting
    environment["PYTHONPATH"] = str(ROOT)
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, cwd=ROOT)
    assert finished.returncode == 0, finished.stderr
    assert finished.stderr == ""
    assert finished.stdout == f"None\n{setting} {onednn} {onednn}\n"


@pytest.mark.slow
def test_an_import_error_inside_the_quiet_load_still_reaches_stderr(tmp_path):
    (tmp_path / "tensorflow").mkdir()
    (tmp_path / "tensorflow" / "__init__.py").write_text("raise ImportError('a broken TensorFlow install')")
    script = "from musiclib.common.console import load_tensorflow_quietly; load_tensorflow_quietly()"
    environment = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    environment.pop("KERAS_BACKEND", None)
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, cwd=ROOT)
    assert finished.returncode == 1
    assert "ImportError: a broken TensorFlow install" in finished.stderr


def test_progress_lines_go_to_the_file_named_in_the_environment(tmp_path, monkeypatch):
    progress_file = tmp_path / "progress.log"
    monkeypatch.setenv(console.PROGRESS_FILE_VARIABLE, str(progress_file))
    logger = logging.getLogger("musiclib")
    saved = logger.level, logger.propagate, list(logger.handlers)
    try:
        console.show_progress()
        console.show_progress()  # a second call replaces the handler: no doubled lines
        logging.getLogger("musiclib.experiments.grid").info("run %d/%d trained", 1, 9)
        logging.getLogger("musiclib.experiments.grid").debug("not shown")
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
        "from musiclib.common.console import quiet_tensorflow; quiet_tensorflow()\n"
        "import tensorflow as tf\n"
        "tf.get_logger().warning('retracing'); print('done')\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment, cwd=ROOT)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout == "done\n" and "retracing" not in finished.stderr


@pytest.mark.parametrize(
    "seconds, text",
    [(0.4, "0 s"), (59.6, "1 min 0 s"), (75.3, "1 min 15 s"), (3599, "59 min 59 s"), (3600, "1 h 0 min"), (9000, "2 h 30 min")],
)
def test_format_duration(seconds, text):
    assert console.format_duration(seconds) == text
