"""The notebooks' set-up: in a real kernel started in ``notebooks/`` (as JupyterLab starts it), the
parameters cell's relative paths resolve against the repository root."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # starts a Jupyter kernel: a few seconds
def test_a_kernel_started_in_notebooks_resolves_runs_against_the_repository_root():
    from jupyter_client.manager import start_new_kernel

    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(ROOT / "notebooks"), env=environment)
    outputs = []
    try:
        code = (
            "import os\nfrom musiclib.book.notebook import setup\n"
            "runs_dir, data_source = setup('runs', 'tests')\n"
            "print(os.getcwd()); print(runs_dir); print(data_source); print(setup('runs', 'essen')[1])"
        )
        client.execute_interactive(code, timeout=120, output_hook=lambda message: outputs.append(message))
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    text = "".join(message["content"].get("text", "") for message in outputs if message["msg_type"] == "stream")
    errors = [message["content"] for message in outputs if message["msg_type"] == "error"]
    assert not errors, errors
    assert text.splitlines() == [str(ROOT / "notebooks"), str(ROOT / "runs"), str(ROOT / "tests"), "essen"]
