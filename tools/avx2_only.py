"""Run a command as if on an AVX2-only x86-64 CPU, on a machine that has AVX-512 (issue 21).

    python tools/avx2_only.py python benchmarks/cpu.py --cells lstm --onednn on
    make test-avx2          # the fast tests of training and the grid, seen from an AVX2-only CPU

TensorFlow, oneDNN, XLA's code generator, OpenBLAS and NumPy each choose their kernels from what the
CPUID instruction reports, and TensorFlow also decides from it whether oneDNN is on by default (off on
CPUs without AVX-512-class features: most laptops and many servers). This tool compiles
``tools/avx2_only.c`` into a small library and starts the command with it preloaded
(``LD_PRELOAD``, inherited by every process the command starts): CPUID then traps, and the library
answers it with the AVX-512 feature bits cleared. glibc, which reads CPUID before any library is
loaded, is told the same through ``GLIBC_TUNABLES``. So the command runs the instructions, and takes
the default decisions, of an AVX2-only CPU such as AMD's Zen 3 EPYCs (the CPU issue 21 was measured
on); clock speed, caches and core count stay this machine's.

It needs Linux on x86-64 with CPUID faulting (``cpuid_fault`` among the flags of ``/proc/cpuinfo``, as on
the 2-core AMD EPYC virtual machine the project is built on; not every CPU or hypervisor offers it)
and a C compiler (``cc``). The library is compiled
once per version of its source into ``~/.cache/musiclib`` (``$XDG_CACHE_HOME``). On a CPU without
AVX-512 it changes nothing. ``MUSICLIB_AVX2_ONLY_REPORT=1`` makes every process print, when it
exits, how many CPUID instructions it answered.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_suffix(".c")
#: glibc's string and memory functions without their AVX-512 variants (glibc's ``cpu.hwcaps`` tunable).
GLIBC_AVX512_OFF = "glibc.cpu.hwcaps=" + ",".join(
    f"-{feature}" for feature in ("AVX512F", "AVX512VL", "AVX512BW", "AVX512DQ", "AVX512CD", "AVX512ER", "AVX512PF")
)


class Unsupported(RuntimeError):
    """This machine cannot show a process an AVX2-only CPU (not Linux on x86-64, no CPUID faulting, no C compiler)."""


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The feature flags the kernel lists for the first CPU of ``cpuinfo`` (empty if unreadable)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def check_supported() -> None:
    """Raise :class:`Unsupported`, saying what is missing, unless this machine can run :func:`environment`'s view."""
    if platform.system() != "Linux" or platform.machine() != "x86_64":
        raise Unsupported(f"an AVX2-only view needs Linux on x86-64, not {platform.system()} on {platform.machine()}")
    if "cpuid_fault" not in cpu_flags():
        raise Unsupported("this CPU or kernel cannot fault on CPUID (no cpuid_fault in /proc/cpuinfo)")
    if shutil.which("cc") is None:
        raise Unsupported("no C compiler (cc) on PATH to build tools/avx2_only.c")


def library_path() -> Path:
    """The compiled preload library, built from :data:`SOURCE` if this version of it is not built yet.

    The file is named by the source's SHA-256, written to a temporary name and renamed, so that two
    processes building it at once both end with a whole library.
    """
    check_supported()
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "musiclib"
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    library = cache / f"avx2_only-{digest}.so"
    if not library.exists():
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as build:
            built = Path(build) / library.name
            compiled = subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-Wall", "-o", str(built), str(SOURCE), "-ldl"],
                                      capture_output=True, text=True, check=False)
            if compiled.returncode != 0:
                raise Unsupported(f"cc could not build {SOURCE}:\n{compiled.stderr}")
            os.replace(built, library)
    return library


def environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the library preloaded and glibc's AVX-512 off."""
    environment = dict(os.environ if base is None else base)
    library = str(library_path())
    other_preloads = [path for path in environment.get("LD_PRELOAD", "").split() if path != library]
    environment["LD_PRELOAD"] = " ".join([library, *other_preloads])
    other_tunables = [tunable for tunable in environment.get("GLIBC_TUNABLES", "").split(":")
                      if tunable and tunable != GLIBC_AVX512_OFF]
    environment["GLIBC_TUNABLES"] = ":".join([GLIBC_AVX512_OFF, *other_tunables])
    return environment


def main(command: list[str]) -> None:
    """Replace this process by ``command`` under :func:`environment`."""
    if not command or command[0] in ("-h", "--help"):
        raise SystemExit(__doc__)
    try:
        view = environment()
    except Unsupported as error:
        raise SystemExit(f"avx2_only: {error}") from None
    os.execvpe(command[0], command, view)


if __name__ == "__main__":
    main(sys.argv[1:])
