#!/usr/bin/env bash
# Download, here (where the package registry is reachable), the wheels that the GPU check installs on the
# device machine: the packages its GPU paths import that the device's Python 3.12 lacks, at the versions
# pinned in requirements.lock. They land in .whl/ (git-ignored); the device tool carries that folder:
#   run(command="python3 scripts/gpu_check.py", carry=[".whl"])
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-.venv/bin/python}"
PACKAGES="captum hershey-fonts altair vl-convert-python jsonschema jsonschema-specifications referencing rpds-py"
pins=()
for name in $PACKAGES; do
  pin=$(grep -iE "^${name}==" requirements.lock | head -1 | awk '{print $1}')
  [ -n "$pin" ] || { echo "error: $name is not pinned in requirements.lock" >&2; exit 2; }
  pins+=("$pin")
done
rm -rf .whl && mkdir -p .whl
"$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform manylinux1_x86_64 \
  -d .whl "${pins[@]}" 2> >(grep -v "WARNING: Location" >&2)
echo "$(ls .whl | wc -l) wheels, $(du -sh .whl | cut -f1) in .whl/ (the device tool carries at most 64 MiB with the tree)"
