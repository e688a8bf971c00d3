"""The machine a reproduction ran on, as the run record and the head of every book page name it.

:func:`machine_info` reads it: the platform, the CPU model and its core count, whether TensorFlow's
oneDNN kernels were on (they change the numbers in the last digits and the training speed), and the
lock file the environment is installed from (``make env``: ``requirements/<system>-<machine>.lock``,
named as ``uname -s`` and ``uname -m`` name the platform). :func:`describe_machine` writes such a
record as the words that both the run record (:mod:`musiclib.book.run_record`) and each page's
provenance line (:mod:`musiclib.book.edition`) show.

Notebook: every chapter (the provenance line at the top of each page).
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

from musiclib.book.paths import repository_root
from musiclib.common.console import onednn_enabled

LOCK_FOLDER = "requirements"
"""Where the locks live, under the repository root."""
LOCK_DIGEST_DIGITS = 12
"""Hexadecimal digits of the lock's SHA-256 that the record keeps: enough to tell two locks apart."""
CPUINFO = Path("/proc/cpuinfo")


def lock_path(root: str | os.PathLike | None = None) -> Path:
    """The lock file of this platform, whether it exists or not.

    Parameters
    ----------
    root : path-like, optional
        The repository root (default: :func:`musiclib.book.paths.repository_root`).

    Returns
    -------
    pathlib.Path
        ``root/requirements/<system>-<machine>.lock``, e.g. ``linux-x86_64.lock`` or
        ``darwin-arm64.lock``: the name the Makefile builds from ``uname -s`` (lower case) and
        ``uname -m``.
    """
    root = Path(root) if root is not None else repository_root()
    return root / LOCK_FOLDER / f"{platform.system().lower()}-{platform.machine()}.lock"


def lock_summary(root: str | os.PathLike | None = None) -> dict | None:
    """Which lock file this platform's environment is made from, and its hash.

    Parameters
    ----------
    root : path-like, optional
        The repository root (default: :func:`musiclib.book.paths.repository_root`).

    Returns
    -------
    dict or None
        ``{"file": "linux-x86_64.lock", "sha256": <first LOCK_DIGEST_DIGITS hexadecimal digits of the
        file's SHA-256>}``; None when this platform has no lock (``make env`` then installs the
        ranges of ``pyproject.toml``).
    """
    path = lock_path(root)
    if not path.is_file():
        return None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:LOCK_DIGEST_DIGITS]
    return {"file": path.name, "sha256": digest}


def cpuinfo_model(cpuinfo_text: str) -> str | None:
    """The first ``model name`` of a Linux ``/proc/cpuinfo``.

    Parameters
    ----------
    cpuinfo_text : str
        The file's text.

    Returns
    -------
    str or None
        For example ``"Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz"``; None when the file names
        no model (as on many ARM machines).
    """
    found = re.search(r"^model name\s*:\s*(.+?)\s*$", cpuinfo_text, flags=re.MULTILINE)
    return found.group(1) if found else None


def cpu_model() -> str:
    """The CPU's model name.

    Returns
    -------
    str
        On Linux the ``model name`` of ``/proc/cpuinfo``, on macOS ``sysctl -n
        machdep.cpu.brand_string``; else (or when those say nothing) :func:`platform.processor`,
        else :func:`platform.machine`.
    """
    model = None
    if sys.platform == "linux" and CPUINFO.is_file():
        model = cpuinfo_model(CPUINFO.read_text(encoding="utf-8", errors="replace"))
    elif sys.platform == "darwin":
        finished = subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True)
        model = finished.stdout.strip() if finished.returncode == 0 else None
    return model or platform.processor() or platform.machine()


def onednn_state() -> str:
    """Whether TensorFlow's oneDNN kernels are on in this process.

    Asks TensorFlow only when it is already imported (the run record must not pay for loading it;
    :func:`musiclib.book.run_record.environment_info` loads the profile, which imports Keras and so
    TensorFlow). TensorFlow turns them on by default only on x86-64 CPUs with AVX-512-class
    features; musiclib turns them on everywhere (:func:`musiclib.common.console.quiet_tensorflow`),
    and ``TF_ENABLE_ONEDNN_OPTS=0`` turns them off.

    Returns
    -------
    str
        ``"on"``, ``"off"``, or ``"unknown"`` when TensorFlow is not imported (or not installed).
    """
    enabled = onednn_enabled()
    return "unknown" if enabled is None else "on" if enabled else "off"


def machine_info(root: str | os.PathLike | None = None) -> dict:
    """The machine and environment this process runs on.

    Parameters
    ----------
    root : path-like, optional
        The repository root, where the lock is looked for (default:
        :func:`musiclib.book.paths.repository_root`).

    Returns
    -------
    dict
        ``platform`` (:func:`platform.platform`), ``machine`` (``x86_64``, ``arm64``, ...),
        ``cpu_model`` (:func:`cpu_model`), ``cpu_count`` (logical cores), ``onednn``
        (:func:`onednn_state`) and ``lock`` (:func:`lock_summary`).
    """
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "onednn": onednn_state(),
        "lock": lock_summary(root),
    }


def describe_machine(environment: dict) -> str:
    """The machine of a run record in words, for the record's table and each page's provenance line.

    Parameters
    ----------
    environment : dict
        A run record's ``environment`` (:func:`machine_info` is part of it). For a record written
        before the CPU model, oneDNN and the lock were recorded, the text says which it lacks
        (``"Linux-6.1-x86_64 (2 CPU cores; not recorded: CPU model, oneDNN, lock)"``).

    Returns
    -------
    str
        For example ``"Linux-6.1-x86_64 (Intel(R) Xeon(R) CPU @ 2.20GHz, 2 CPU cores, oneDNN on, lock
        linux-x86_64.lock sha256 3f2a9c1b7d4e)"``.
    """
    details = []
    if environment.get("cpu_model"):
        details.append(environment["cpu_model"])
    details.append(f"{environment.get('cpu_count', '?')} CPU cores")
    if "onednn" in environment:
        details.append(f"oneDNN {environment['onednn']}")
    if "lock" in environment:
        lock = environment["lock"]
        details.append(f"lock {lock['file']} sha256 {lock['sha256']}" if lock else "no lock: pyproject.toml's ranges")
    missing = [name for name, key in (("CPU model", "cpu_model"), ("oneDNN", "onednn"), ("lock", "lock"))
               if key not in environment]
    unrecorded = f"; not recorded: {', '.join(missing)}" if missing else ""
    return f"{environment.get('platform', 'an unknown platform')} ({', '.join(details)}{unrecorded})"
