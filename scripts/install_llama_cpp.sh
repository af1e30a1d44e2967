#!/usr/bin/env bash
# Build llama-cpp-python (llama.cpp) into a virtualenv so that it runs on any x86-64 CPU, never
# only on the CPU that built it, and still uses the fastest kernels each CPU has.
#
# llama.cpp's default build adds -march=native: the library then holds instructions of the building
# CPU only, and on a Sapphire Rapids Xeon it compiles in the AMX kernels, which crash
# (docs/benchmarks.md, "Portable llama.cpp"). Instead every CPU back-end variant is built
# (GGML_CPU_ALL_VARIANTS, loaded at run time with GGML_BACKEND_DL): the model process loads the
# best one for the CPU it runs on. The AMX variant is removed after the build.
#
# Usage: scripts/install_llama_cpp.sh [VENV]     (default .venv; used by the Makefile and Dockerfile)
# It does nothing when VENV already holds a build with these flags, and rebuilds otherwise (a
# .venv holding an earlier native build included). The CMake cache of the build is kept in
# VENV/llama-cpp-build/CMakeCache.txt, which tests/test_llama_build.py reads.
set -euo pipefail

venv=${1:-.venv}
py="$venv/bin/python"
version=0.3.36
flags=(
  -DGGML_NATIVE=OFF
  -DGGML_BACKEND_DL=ON
  -DGGML_CPU_ALL_VARIANTS=ON
  # STRING, not PATH: CMake would make a relative PATH absolute in the temporary source folder.
  -DGGML_BACKEND_DIR:STRING=llama_cpp/lib
)
# Variants removed after the build: AMX crashes in llama.cpp's AMX matmul (llama.cpp #20824).
unwanted=(libggml-cpu-sapphirerapids.so)

record="$venv/llama-cpp-build"
wanted="llama-cpp-python==$version ${flags[*]} without ${unwanted[*]}"
lib_dir() {
  "$py" -c 'import importlib.util, pathlib; s = importlib.util.find_spec("llama_cpp"); print(pathlib.Path(s.origin).parent / "lib" if s else "")'
}
lib=$(lib_dir)
if [ -f "$record/flags" ] && [ "$(cat "$record/flags")" = "$wanted" ] \
  && [ -n "$lib" ] && ls "$lib"/libggml-cpu-*.so >/dev/null 2>&1; then
  echo "llama-cpp-python $version: portable build already installed"
  exit 0
fi

build=$(mktemp -d "${TMPDIR:-/tmp}/llama-cpp-build.XXXXXX")
trap 'rm -rf "$build"' EXIT
echo "building llama-cpp-python $version for any x86-64 CPU (all CPU variants; ~10-15 minutes on 2 cores)"
# --no-cache-dir: pip's wheel cache would hand back an earlier build made with other flags.
CMAKE_ARGS="${flags[*]}" "$py" -m pip install --no-cache-dir --no-binary llama-cpp-python \
  --force-reinstall --no-deps -C build-dir="$build" "llama-cpp-python==$version"

lib=$(lib_dir)
ls "$lib"/libggml-cpu-*.so >/dev/null || { echo "error: no CPU back-end variants in $lib" >&2; exit 1; }
for name in "${unwanted[@]}"; do rm -f "$lib/$name"; done

rm -rf "$record"
mkdir -p "$record"
cp "$build/CMakeCache.txt" "$record/CMakeCache.txt"
echo "$wanted" > "$record/flags"
echo "llama-cpp-python $version installed: $(cd "$lib" && ls libggml-cpu-*.so | tr '\n' ' ')"
