"""The machine a run names: the lock's hash, the CPU model and cores, oneDNN, in one description."""

import hashlib
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from musiclib.book import edition, machine
from musiclib.book.run_record import _markdown_record

ROOT = Path(__file__).resolve().parents[2]


def test_the_lock_is_named_by_platform_and_hashed_like_hashlib(tmp_path):
    assert machine.lock_summary(tmp_path) is None  # no lock for this platform: pyproject's ranges
    system, architecture = os.uname().sysname.lower(), os.uname().machine  # as `uname -s`, `uname -m`
    lock = tmp_path / "requirements" / f"{system}-{architecture}.lock"
    lock.parent.mkdir()
    lock.write_text("keras==3.15.1 \\\n    --hash=sha256:00\n")
    assert machine.lock_path(tmp_path) == lock
    expected = hashlib.sha256(lock.read_bytes()).hexdigest()[:12]
    assert machine.lock_summary(tmp_path) == {"file": lock.name, "sha256": expected}


def test_the_checkouts_lock_for_this_platform_is_the_one_recorded():
    lock = machine.lock_path(ROOT)
    if not lock.is_file():
        pytest.skip(f"no lock for this platform ({lock.name})")
    summary = machine.machine_info(ROOT)["lock"]
    assert summary == {"file": lock.name, "sha256": hashlib.sha256(lock.read_bytes()).hexdigest()[:12]}


def test_the_cpu_model_is_the_first_model_name_of_cpuinfo():
    text = ("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz  \n\n"
            "processor\t: 1\nmodel name\t: Another CPU\n")
    assert machine.cpuinfo_model(text) == "Intel(R) Xeon(R) CPU @ 2.20GHz"
    assert machine.cpuinfo_model("processor\t: 0\nCPU part\t: 0xd0c\n") is None  # as on many ARM boards


def test_the_cpu_model_is_the_one_this_machine_names():
    model = machine.cpu_model()
    if sys.platform == "linux":
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]
        expected = names[0] if names else platform.processor() or platform.machine()
    elif sys.platform == "darwin":
        expected = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                                  text=True).stdout.strip()
    else:
        expected = platform.processor() or platform.machine()
    assert model == expected


def test_onednn_is_read_only_from_a_loaded_tensorflow_and_follows_its_switch():
    pytest.importorskip("tensorflow")
    script = textwrap.dedent("""
        from musiclib.book.machine import onednn_state
        before = onednn_state()
        import tensorflow
        print(before, onednn_state())
    """)
    environment = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment,
                              check=True)
    assert finished.stdout.split() == ["unknown", "off"]


def test_the_record_and_every_page_describe_the_machine_alike():
    environment = {"profile": "study", "profile_description": "", "data": "essen", "date_utc": "2026-12-06 04:04 UTC",
                   "platform": "Linux-6.1-x86_64", "cpu_model": "AMD EPYC 9B14", "cpu_count": 2, "onednn": "on",
                   "lock": {"file": "linux-x86_64.lock", "sha256": "0123456789ab"}, "python": "3.11.7",
                   "keras_backend": "tensorflow", "packages": {}, "fluidsynth": None}
    described = machine.describe_machine(environment)
    assert described == "Linux-6.1-x86_64 (AMD EPYC 9B14, 2 CPU cores, oneDNN on, lock linux-x86_64.lock sha256 0123456789ab)"
    assert f"| Machine | {described} |" in _markdown_record(environment, [])
    assert f" on {described} with Python 3.11.7," in edition.provenance_text({"environment": environment})
    unlocked = machine.describe_machine({**environment, "lock": None})
    assert unlocked.endswith("oneDNN on, no lock: pyproject.toml's ranges)")


def test_an_older_record_says_what_it_did_not_record():
    older = {"platform": "Linux-6.1-x86_64", "cpu_count": 2, "processor": "x86_64"}
    assert machine.describe_machine(older) == "Linux-6.1-x86_64 (2 CPU cores; not recorded: CPU model, oneDNN, lock)"
