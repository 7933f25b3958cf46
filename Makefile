# LFR Portal. A fresh clone needs two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install install-system demo up lint test test-fast fuzz gpu-check check clean-var

# Debian packages the tests need, installed when missing: chromium for the real-browser tests (Playwright
# drives it; it cannot download browsers here), and GStreamer's RTSP server with an H.264 encoder for the real
# RTSP camera (bench/rtsp_server.py, run by Debian's /usr/bin/python3, which has the gi bindings).
SYSTEM_PACKAGES := chromium gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
                   gstreamer1.0-plugins-ugly gstreamer1.0-libav python3-gi
install-system:
	@MISSING=$$(for p in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	[ -z "$$MISSING" ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing $$MISSING" | tr '\n' ' '; echo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$MISSING; }

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP) install-system

# Everything, with demo users and data: PostgreSQL, Redis, web, worker, beat. Ctrl-C stops it all.
demo: install
	$(BIN)/python manage.py lfr up --demo

# The same without seeding demo data.
up: install
	$(BIN)/python manage.py lfr up

# Lint: ruff, the apps' import layers (import-linter contracts in pyproject.toml, docs/architecture.md "Layers"),
# and mypy on recognition/ml and the services. No exceptions are listed: a finding fails the build.
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# Lint, then the whole suite against real embedded PostgreSQL + Redis (started and stopped by the run).
test: lint
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

# Fuzz the REST API from its OpenAPI schema (schemathesis), once per role, against a real server:
# no input may give a server error. Figures in bench/results/fuzz_api.json. FUZZ_EXAMPLES sets the depth.
FUZZ_EXAMPLES ?= 30
fuzz: install
	$(BIN)/python -m bench.fuzz_api --max-examples $(FUZZ_EXAMPLES)

# GPU host only (docs/gpu.md): onnxruntime-gpu in place of onnxruntime, CUDA proven to run, then bench/engine.py,
# bench/pipeline.py (synthetic 720p cameras) and a short evaluate_live on CUDA -> bench/results/*-gpu.json.
# Needs only the venv, not install-system's apt step. GPU_CHECK_DRY_RUN=1: no install, tiny, on the CPU.
# GPU_CHECK_TORCH=1: also torch + onnx2torch (the torch backend, fp16).
GPU_CHECK_DRY_RUN ?=
GPU_CHECK_TORCH ?=
gpu-check: $(STAMP)
	$(BIN)/python bench/gpu_check.py $(if $(filter-out 0,$(GPU_CHECK_DRY_RUN)),--dry-run) $(if $(filter-out 0,$(GPU_CHECK_TORCH)),--torch)

check: install
	$(BIN)/python manage.py check

# Deletes the embedded database, Redis data and protected files under var/.
clean-var:
	rm -rf var/
