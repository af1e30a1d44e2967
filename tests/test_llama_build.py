"""The installed llama.cpp is built for any x86-64 CPU: no flag of the CPU that built it.

llama.cpp's default build compiles with ``-march=native``; such a build crashes or stops with an
illegal instruction on other CPUs (and, on a Sapphire Rapids Xeon, in the AMX kernels it compiles
in). ``scripts/install_llama_cpp.sh`` builds every CPU variant instead and records its CMake cache
in the virtualenv; these tests read it, so a native build (or one made another way) fails here.
"""

from __future__ import annotations

import importlib.util
import platform
import re
import sys
from pathlib import Path

import pytest

RECORD = Path(sys.prefix) / "llama-cpp-build"
FIX = "rebuild it with `make install` (scripts/install_llama_cpp.sh)"


def cmake_cache() -> dict[str, str]:
    path = RECORD / "CMakeCache.txt"
    if not path.is_file():
        pytest.fail(f"llama-cpp-python was not built by scripts/install_llama_cpp.sh: {FIX}")
    entries: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_]+):[A-Z]+=(.*)$", line)
        if match:
            entries[match.group(1)] = match.group(2)
    return entries


def lib_dir() -> Path:
    spec = importlib.util.find_spec("llama_cpp")
    assert spec is not None and spec.origin is not None, "llama-cpp-python is not installed"
    return Path(spec.origin).parent / "lib"


def test_llama_cpp_was_configured_without_native_cpu_flags() -> None:
    cache = cmake_cache()
    assert cache.get("GGML_NATIVE") == "OFF", f"GGML_NATIVE={cache.get('GGML_NATIVE')}: {FIX}"
    assert cache.get("GGML_BACKEND_DL") == "ON"
    assert cache.get("GGML_CPU_ALL_VARIANTS") == "ON"
    for name in ("CMAKE_C_FLAGS", "CMAKE_CXX_FLAGS", "CMAKE_C_FLAGS_RELEASE"):
        assert "native" not in cache.get(name, ""), f"{name}={cache[name]!r}: {FIX}"


@pytest.mark.skipif(platform.machine() != "x86_64", reason="the variant names are x86-64's")
def test_the_cpu_back_end_is_chosen_at_run_time_and_has_no_amx_variant() -> None:
    names = {p.name for p in lib_dir().glob("libggml-cpu*.so")}
    # One built-in back-end would be compiled for one CPU; variants are chosen per CPU at load.
    assert "libggml-cpu.so" not in names, f"a single CPU back-end is installed: {FIX}"
    assert {"libggml-cpu-x64.so", "libggml-cpu-haswell.so", "libggml-cpu-zen4.so"} <= names
    assert "libggml-cpu-sapphirerapids.so" not in names  # AMX: crashes in llama.cpp #20824
