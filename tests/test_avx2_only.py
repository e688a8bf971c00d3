"""tools/avx2_only.py: a process that sees an AVX2-only CPU, and musiclib's oneDNN default seen from one."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "avx2_only.py"
_spec = importlib.util.spec_from_file_location("avx2_only", TOOL)
avx2_only = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(avx2_only)

try:
    avx2_only.check_supported()
    UNSUPPORTED = None
except avx2_only.Unsupported as error:
    UNSUPPORTED = str(error)
needs_view = pytest.mark.skipif(UNSUPPORTED is not None, reason=f"no AVX2-only view here: {UNSUPPORTED}")

NUMPY_FEATURES = ("import json; from numpy._core._multiarray_umath import __cpu_features__ as f; "
                  "print(json.dumps({k: f[k] for k in ('AVX2', 'FMA3', 'AVX512F', 'AVX512BW', 'AVX512_SKX')}))")


def run_python(code: str, view: bool, *options: str, arguments: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """``python [options] -c code [arguments]`` in a fresh process on TensorFlow, with the AVX2-only view
    or without it, and with ``TF_ENABLE_ONEDNN_OPTS`` unset (musiclib, loaded by the tests, sets it), so that
    TensorFlow and musiclib decide on oneDNN as they would in a fresh shell."""
    unset = ("LD_PRELOAD", "TF_ENABLE_ONEDNN_OPTS")
    environment = {key: value for key, value in os.environ.items() if key not in unset}
    environment["KERAS_BACKEND"] = "tensorflow"
    if view:
        environment = avx2_only.environment(environment)
    return subprocess.run([sys.executable, *options, "-c", code, *arguments], env=environment, capture_output=True,
                          text=True, check=False, timeout=300)


def test_cpu_flags_reads_the_first_flags_line(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 cpuid_fault\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert avx2_only.cpu_flags(cpuinfo) == {"fpu", "avx2", "cpuid_fault"}
    assert avx2_only.cpu_flags(tmp_path / "missing") == set()


def test_environment_keeps_earlier_preloads_and_tunables():
    if UNSUPPORTED:
        with pytest.raises(avx2_only.Unsupported):
            avx2_only.environment({})
        return
    view = avx2_only.environment({"LD_PRELOAD": "libother.so", "GLIBC_TUNABLES": "glibc.malloc.check=3"})
    library, other = view["LD_PRELOAD"].split()
    assert Path(library).is_file() and other == "libother.so"
    assert view["GLIBC_TUNABLES"] == f"{avx2_only.GLIBC_AVX512_OFF}:glibc.malloc.check=3"
    assert avx2_only.environment(view) == view, "a view within the view adds nothing"


@needs_view
def test_numpy_sees_avx2_and_no_avx512():
    plain = json.loads(run_python(NUMPY_FEATURES, view=False).stdout)
    seen = json.loads(run_python(NUMPY_FEATURES, view=True).stdout)
    assert seen["AVX2"] and seen["FMA3"], "AVX2 and FMA must stay visible"
    assert plain["AVX2"] == seen["AVX2"]
    assert not (seen["AVX512F"] or seen["AVX512BW"] or seen["AVX512_SKX"])


@needs_view
def test_a_real_segmentation_fault_still_kills_the_process():
    crash = "import ctypes; ctypes.string_at(0)"
    assert run_python(crash, view=True).returncode == -signal.SIGSEGV
    # A handler installed after the library's (Python's faulthandler) still reports the crash.
    reported = run_python(crash, True, "-X", "faulthandler")
    assert reported.returncode == -signal.SIGSEGV
    assert "Segmentation fault" in reported.stderr


ONEDNN_STATE = """
import sys
if sys.argv[-1] == "musiclib":
    from musiclib.common.console import load_tensorflow_quietly
    load_tensorflow_quietly()
else:
    import tensorflow
from musiclib.common.console import onednn_enabled
print(onednn_enabled())
"""


@needs_view
@pytest.mark.parametrize("loader, expected", [("tensorflow", "False"), ("musiclib", "True")])
def test_tensorflow_leaves_onednn_off_on_an_avx2_cpu_and_musiclib_turns_it_on(loader, expected):
    """Issue 21's premise and its first fix, on an AVX2-only CPU as TensorFlow sees it."""
    result = run_python(ONEDNN_STATE, True, arguments=(loader,))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == expected
