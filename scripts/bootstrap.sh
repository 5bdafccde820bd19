#!/usr/bin/env bash
# Set-up shared by scripts/main.sh and scripts/test.sh: Debian packages, then a
# project-local venv with autotune installed in editable mode. Idempotent and
# fast on re-runs: apt only when something is missing, pip only when
# pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(clang-22 libomp-22-dev python3-venv csmith libcsmith-dev postgresql pocl-opencl-icd ocl-icd-opencl-dev)
missing=()
command -v clang-22 >/dev/null 2>&1 || missing+=(clang-22)
dpkg -s libomp-22-dev >/dev/null 2>&1 || missing+=(libomp-22-dev)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
command -v csmith >/dev/null 2>&1 || missing+=(csmith)            # random C programs for the encoder corpus
dpkg -s libcsmith-dev >/dev/null 2>&1 || missing+=(libcsmith-dev) # csmith.h, which those programs include
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql) # the tests' throwaway server
dpkg -s pocl-opencl-icd >/dev/null 2>&1 || missing+=(pocl-opencl-icd)       # an OpenCL device on the CPU (PoCL)
dpkg -s ocl-icd-opencl-dev >/dev/null 2>&1 || missing+=(ocl-icd-opencl-dev) # CL/cl.h and libOpenCL for clhost.c
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "bootstrap: installing ${missing[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "bootstrap: missing Debian packages; run: sudo apt-get install -y ${APT_PACKAGES[*]}" >&2
    exit 1
  fi
fi

if [[ ! -x .venv/bin/python ]]; then
  echo "bootstrap: creating .venv" >&2
  python3 -m venv .venv
fi
stamp=".venv/.autotune-installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [[ ! -f $stamp ]]; then
  echo "bootstrap: installing autotune and its dependencies into .venv (pip)" >&2
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[dev]'
  rm -f .venv/.autotune-installed-*
  touch "$stamp"
fi
