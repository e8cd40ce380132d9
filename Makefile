# pybpfc: make venv | test | fuzz | demo | bench | clean
# Works on a fresh Debian 12 machine as root: missing system tools are
# installed with apt-get, Python packages into .venv.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Debian installs bpftool in /usr/sbin, which a non-login PATH may lack.
export PATH := $(PATH):/usr/sbin:/sbin

SYSTEM_STAMP := $(VENV)/.system-packages
INSTALL_STAMP := $(VENV)/.installed

.PHONY: venv test fuzz demo bench clean

venv: $(INSTALL_STAMP)

# apt-get runs only when a tool is missing; the stamp keeps later runs fast.
# python3-venv provides ensurepip, without which Debian's venv fails; nodejs
# runs pyright, the second type checker the tests hold programs to;
# chromium and tesseract-ocr render and read back `pybpfc objdump --html`.
$(SYSTEM_STAMP):
	@if ! command -v bpftool >/dev/null || ! command -v clang >/dev/null \
	    || ! command -v node >/dev/null \
	    || ! command -v chromium >/dev/null || ! command -v tesseract >/dev/null \
	    || ! $(PYTHON) -c 'import ensurepip' 2>/dev/null; then \
	    echo "installing bpftool clang llvm libbpf-dev python3-venv nodejs chromium" \
	        "tesseract-ocr with apt-get"; \
	    apt-get update \
	    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	        bpftool clang llvm libbpf-dev python3-venv nodejs \
	        chromium tesseract-ocr tesseract-ocr-eng; \
	fi
	mkdir -p $(VENV)
	touch $@

$(INSTALL_STAMP): pyproject.toml | $(SYSTEM_STAMP)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -e '.[test]'
	touch $@

test: venv
	$(VENV)/bin/pybpfc --version
	$(PY) -m pytest -q tests

# The long fuzz runs (fuzz/__main__.py): 50,000 compiler inputs, 1,000 valid
# programs through the verifier, 50,000 malformed objects, 20,000 mutated
# program files judged against Python, programs growing to 1 MB, 5,000 valid
# programs run in the interpreter and in the kernel and compared; about 35
# minutes on 2 CPUs.  FUZZ_ARGS="--seed S" replays a run.
fuzz: venv
	$(PY) -m fuzz --compiler 50000 --kernel 1000 --runtime 50000 --source 20000 --sizes \
	    --differential 5000 $(FUZZ_ARGS)

demo: venv
	mkdir -p build
	@echo "== pybpfc build: Python hook -> BPF object"
	$(VENV)/bin/pybpfc build examples/deny_ttl.py -o build/deny_ttl.o
	@echo "== pybpfc objdump: the instructions, with the Python lines they came from"
	$(VENV)/bin/pybpfc objdump build/deny_ttl.o
	@echo "== pybpfc run: the same command in a cgroup with the hook attached"
	$(VENV)/bin/pybpfc run build/deny_ttl.o -- $(VENV)/bin/python scripts/try_ttl.py
	@echo
	@echo "== next: pybpfc, and a python3 that imports it, are in $(VENV)/bin;"
	@echo "put them first on your shell's PATH with"
	@echo "    . $(VENV)/bin/activate"
	@echo "then run a hook on a command of your own, e.g."
	@echo "    pybpfc run examples/deny_ttl.py -- python3 scripts/try_ttl.py"
	@echo "and learn BPF with the tutorial: docs/tutorial/README.md"

# Writes docs/performance.md; BENCH_QUICK=1 for a short check of the harness.
bench: venv
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
