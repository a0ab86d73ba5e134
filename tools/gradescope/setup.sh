#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image; the zip (the course, this
# file and run_autograder) is unpacked in /autograder/source. Only what grading needs is installed:
# CPU-only torch (never the CUDA build), numpy, pandas, tqdm, and the course with --no-deps.
set -euo pipefail
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q --upgrade pip
/autograder/venv/bin/pip install -q torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
/autograder/venv/bin/pip install -q "numpy>=1.26,<3" pandas==3.1.1 tqdm==4.70.1
/autograder/venv/bin/pip install -q --no-deps -e /autograder/source
# Student code runs as nobody: it cannot read the references.
chmod 700 /autograder/source/solutions
