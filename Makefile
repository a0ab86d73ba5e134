# Deeper RL: the two commands a newcomer needs.
#   make lab    install into .venv (first time only) and open JupyterLab on the course
#   make test   install into .venv (first time only) and run every test, notebooks included
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# MuJoCo's rendering backend follows the platform, as course_lib.rendering does: egl (headless)
# on Linux, glfw on macOS and Windows. An exported MUJOCO_GL (egl, glfw, osmesa) always wins.
UNAME_S := $(shell uname -s 2>/dev/null || echo Windows)
ifeq ($(UNAME_S),Linux)
MUJOCO_GL ?= egl
else
MUJOCO_GL ?= glfw
endif
export MUJOCO_GL

.PHONY: lab test test-platforms install notebooks exercises student-edition durations clean mujoco-gl

install: $(VENV)/.installed

# dm_control goes in with --no-deps: its metadata asks for labmaze, which has no wheel past
# Python 3.12 and which the suite never imports (requirements-sim.txt lists what it does need).
# rliable too, for tests only (tests/test_stats.py checks course_lib.stats against its metrics
# module): its bootstrap needs arch<8, which has no wheel for Python 3.14 and breaks with pandas 3.
$(VENV)/.installed: requirements.txt requirements-sim.txt requirements-nodeps.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -r requirements-nodeps.txt -e .
	$(BIN)/pip install -q --no-deps rliable==1.2.0
	touch $@

lab: install
	$(BIN)/jupyter lab notebooks/

test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

# Where students are: notebook 00's setup cell on a stand-in Colab (Python 3.13 and 3.11, Colab's
# published package versions), every notebook under Colab's versions, and the wheel matrix
# (Python 3.11-3.14 x Linux, macOS arm64, Windows). Needs the package index; CI runs it after `make test`.
# And the student edition built afresh, its notebooks under strict nbval (tests/test_student_edition.py).
test-platforms: install
	$(BIN)/python -m pytest -m platforms tests/test_colab.py tests/test_wheels.py tests/test_student_edition.py

# The rendering backend make passes on (see MUJOCO_GL above).
mujoco-gl:
	@echo $(MUJOCO_GL)

# Maintainers: re-record how long each test file takes (make test runs the longest first).
durations: install
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder --record-durations tests/durations.json

# Maintainers: re-sync every .ipynb with its py:percent twin and re-execute it with outputs.
notebooks: install
	$(BIN)/python tools/build_notebooks.py

# Maintainers: regenerate exercises/ (student stubs) from solutions/.
exercises: install
	$(BIN)/python tools/make_exercises.py

# Instructors: write the student edition (no solutions/, no grader) to the new folder OUT, its Colab
# links pointing at the student repository REPO (default deeper-rl/deeper-rl-student). README.md:
# "Releasing to students".
student-edition: install
	$(BIN)/python tools/make_student_edition.py $(if $(OUT),--out "$(OUT)") $(if $(REPO),--repo "$(REPO)")

clean:
	rm -rf $(VENV)
