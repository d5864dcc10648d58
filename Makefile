# seaSky: `make train` and `make test` set everything up on a fresh machine with Python 3.11.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# The PyTorch pair CI and the developers' machines install (wheels that lie on the build machine).
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.installed
ARGS ?=
# the best checkpoint of a finished training run dir
BEST = $(PY) -c "import json, sys; print(json.load(open(sys.argv[1] + '/results.json'))['ckpt_best'])"

.PHONY: help install browser train test test-full lint docs format bench preview pretrained clean

help: ## show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet $(TORCH_PINS) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install seaSky with its dependencies (only when missing)

# The browser tests (labeller, review page) drive Debian's chromium; without it they are skipped, except in
# CI (.ci/run), where SEASKY_REQUIRE_BROWSER=1 turns a missing browser into a failure.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser: ## Debian's chromium + chromedriver for the browser tests (apt-get, only when missing)
	@command -v chromedriver >/dev/null && command -v chromium >/dev/null || \
	  { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; }

train: $(STAMP) ## train the baseline (ARGS="key=value ..." for overrides)
	$(PY) -m seaSky.train experiment=baseline $(ARGS)

test: $(STAMP) lint docs ## lint, the docs build, then the fast test suite (< 10 min on 2 cores)
	$(PY) -m pytest -q $(ARGS)

test-full: $(STAMP) lint docs ## every test, the slow ones included
	$(PY) -m pytest -q -m "" $(ARGS)

docs: $(STAMP) ## the docs site -> site/ (mkdocs build --strict: a broken link or page fails)
	$(VENV)/bin/mkdocs build --strict

lint: $(STAMP) ## ruff
	$(VENV)/bin/ruff check .

format: $(STAMP) ## ruff fix + format
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format src tests benchmarks

bench: $(STAMP) ## speed benchmarks: rendering, prediction, models, start-up, busy machine, int8 -> benchmarks/results.md (ARGS="--budget-s 120")
	$(PY) benchmarks/bench_synthetic.py
	$(PY) benchmarks/bench_predict.py
	$(PY) benchmarks/bench_models.py $(ARGS)
	$(PY) benchmarks/bench_speed.py

preview: $(STAMP) ## contact sheet of synthetic scenes -> docs/images/synthetic_preview.png
	$(PY) -m seaSky.render preview=true out_dir=data/preview preview_path=docs/images/synthetic_preview.png overwrite=true

pretrained: $(STAMP) ## train the shipped model (pretrained, anneal, real2, settle averaged 2:2:1; real3 from there, averaged 3:1) and install it; on a GPU: ARGS="trainer=gpu data.num_workers=14"
	$(PY) -m seaSky.train experiment=pretrained hydra.run.dir=outputs/pretrained $(ARGS)
	$(PY) -m seaSky.train experiment=pretrained_anneal hydra.run.dir=outputs/pretrained-anneal init_from=$$($(BEST) outputs/pretrained)
	$(PY) -m seaSky.train experiment=pretrained_real2 hydra.run.dir=outputs/pretrained-real2 init_from=$$($(BEST) outputs/pretrained-anneal)
	$(PY) -m seaSky.train experiment=pretrained_settle hydra.run.dir=outputs/pretrained-settle init_from=$$($(BEST) outputs/pretrained-real2)
	$(PY) -m seaSky.pretrained outputs/pretrained-anneal outputs/pretrained-real2 outputs/pretrained-settle --weights 2 2 1 --target outputs/pretrained-221
	$(PY) -m seaSky.train experiment=pretrained_real3 hydra.run.dir=outputs/pretrained-real3 init_from=outputs/pretrained-221/model.ckpt
	$(PY) -m seaSky.pretrained outputs/pretrained-221/model.ckpt outputs/pretrained-real3 --weights 3 1
	# the held-out test split of the default scenes (data.n=3000 seed 0: the anneal and settle runs' test split)
	$(PY) -m seaSky.evaluate ckpt_path=src/seaSky/pretrained/model.ckpt data.n=3000 data.bit_depth=8 hydra.run.dir=outputs/pretrained-eval overwrite=true review=false
	cp outputs/pretrained-eval/results.json src/seaSky/pretrained/evaluation.json
	$(PY) benchmarks/real_dev.py --names shipped --table outputs/pretrained-eval/real_dev.md

clean: ## remove run outputs (not the venv, not the data cache)
	rm -rf outputs multirun .pytest_cache .ruff_cache
