"""JupyterLab in a real browser: the playground notebook runs, its widgets compose a new melody.

A JupyterLab server is started on a free local port (a known token, no browser) on a temporary
folder holding a copy of ``notebooks/06_playground.ipynb`` whose parameters cell points at a tiny run
trained by the fixture, as a reader would edit it. Headless Chromium (Playwright) opens the notebook,
runs all cells, changes the seed and the temperature through the widgets, presses *compose* and
checks the new score, the memorisation line and the browser console.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from musiclib.data.sequences import prepare_variant, split_melodies
from musiclib.models.train import TrainConfig, train

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "06_playground.ipynb"
SERVER_START_S = 120
NOTEBOOK_RUN_MS = 300_000  # kernel start, TensorFlow import, reference songs, gallery (2 shared cores)
COMPOSE_MS = 120_000
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab_folder(essen_slice, tmp_path_factory):
    """A folder with a tiny finished run (runs/tiny/control/lstm-1) and the playground notebook whose
    parameters cell points at it."""
    folder = tmp_path_factory.mktemp("lab")
    config = TrainConfig(num_layers=1, rnn_size=16, batch_size=16, seq_length=16, num_epochs=1)
    variant_data = prepare_variant(split_melodies(essen_slice.melodies), "control")
    train(config, variant_data, folder / "runs" / "tiny" / "control" / "lstm-1", progress=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    (parameters,) = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert 'runs_dir = "runs"' in parameters.source
    parameters.source = parameters.source.replace('runs_dir = "runs"', f"runs_dir = {str(folder / 'runs')!r}")
    nbformat.write(notebook, folder / NOTEBOOK.name)
    return folder


@pytest.fixture(scope="module")
def lab_server(lab_folder, tmp_path_factory):
    """Base URL and token of a JupyterLab server on ``lab_folder`` (stopped after the tests)."""
    home = tmp_path_factory.mktemp("jupyter-home")
    port, token = _free_port(), secrets.token_hex(16)
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter"),  # the project's python3 kernel first
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", f"--port={port}",
        "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={lab_folder}", "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    log = (home / "server.log").open("w")
    server = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT, cwd=lab_folder)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_S
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5) as response:
                json.load(response)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"JupyterLab did not start: {(home / 'server.log').read_text()[-3000:]}")
            time.sleep(1)
    yield url, token
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


def test_the_playground_composes_in_jupyterlab(browser, lab_server):
    url, token = lab_server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems = []
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))
    page.on("console", lambda message: problems.append(f"console error: {message.text}")
            if message.type == "error" else None)
    page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=NOTEBOOK_RUN_MS)
    # Run all cells once the notebook's kernel is connected and idle (earlier, nothing would run).
    page.wait_for_function(
        """() => {
            const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            const kernel = widget && widget.sessionContext && widget.sessionContext.session
                && widget.sessionContext.session.kernel;
            return kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
        }""",
        timeout=NOTEBOOK_RUN_MS,
    )
    # Not awaited: the command's promise settles only when every cell has run.
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")

    # The last cell shows the controls once every cell before it has run (the gallery included).
    compose = page.locator("button.musiclib-compose")
    compose.wait_for(timeout=NOTEBOOK_RUN_MS)
    assert page.locator(".jp-OutputArea figure.musiclib-melody").count() >= 3  # the gallery
    output = page.locator(".musiclib-output")
    assert output.locator("svg").count() == 0
    assert "tiny: control lstm, 1 layer" in page.locator(".musiclib-run").inner_text().replace("\xa0", " ")

    seed = page.locator(".musiclib-seed input")
    seed.fill("D4 E4 F#4")
    seed.press("Enter")
    page.locator(".musiclib-keyboard").get_by_role("button", name="E4", exact=True).click()  # appends E4
    page.wait_for_function("document.querySelector('.musiclib-seed input').value == 'D4 E4 F#4 E4'")
    readout = page.locator(".musiclib-temperature .widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("0.7")
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('.musiclib-temperature .widget-readout').textContent.trim() == '0.70'")
    compose.click()

    line = output.locator(".musiclib-memorisation")
    line.wait_for(timeout=COMPOSE_MS)
    assert output.locator("figure.musiclib-melody").count() == 1
    assert output.locator("figure.musiclib-melody .musiclib-score svg").count() >= 1
    assert output.locator("figure.musiclib-melody svg .note").count() >= 4 + 30
    assert line.inner_text().startswith("longest copied stretch:")
    title = output.locator("figcaption").inner_text()
    assert "seed D4 E4 F#4 E4" in title and "temperature 0.7" in title, title
    assert not problems, problems
    page.close()
