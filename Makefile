# Deeper RL: the two commands a newcomer needs.
#   make lab    install into .venv (first time only) and open JupyterLab on the course
#   make test   install into .venv (first time only) and run every test, notebooks included
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Headless rendering default; an exported MUJOCO_GL (osmesa, glfw) wins.
export MUJOCO_GL ?= egl

.PHONY: lab test install notebooks exercises durations clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

lab: install
	$(BIN)/jupyter lab notebooks/

test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

# Maintainers: re-record how long each test file takes (make test runs the longest first).
durations: install
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder --record-durations tests/durations.json

# Maintainers: re-sync every .ipynb with its py:percent twin and re-execute it with outputs.
notebooks: install
	$(BIN)/python tools/build_notebooks.py

# Maintainers: regenerate exercises/ (student stubs) from solutions/.
exercises: install
	$(BIN)/python tools/make_exercises.py

clean:
	rm -rf $(VENV)
