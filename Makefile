# The verbs of the ticketing platform. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
# Every workspace member that has tests; each runs in its own venv holding only what it declares.
# `frontend` is the web app: its unit tests, its build and the initial-JavaScript budget (its
# browser tests run against `make dev` in libs/devkit's dev-stack test).
TEST_PACKAGES ?= $(sort $(wildcard libs/*)) $(sort $(wildcard services/*)) $(wildcard infra loadtest) frontend
FRONTEND := frontend
NPM ?= npm

.PHONY: help
help: ## list the verbs
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

.PHONY: uv
uv: ## install uv if it is missing
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
	  python3 -m pip install -q --user uv || python3 -m pip install -q --user --break-system-packages uv

.PHONY: sync
sync: uv ## install every package into .venv (for dev, lint and the dev stack)
	@$(UV) sync --frozen --all-packages --quiet

.PHONY: test
test: uv ## run every test (real PostgreSQL and Redis on 127.0.0.1)
	@$(UV) lock --check --quiet
	@failed=""; for dir in $(TEST_PACKAGES); do \
	  if [ $$dir = $(FRONTEND) ]; then \
	    echo "=== web app ($(FRONTEND))"; \
	    $(MAKE) --no-print-directory web-test || failed="$$failed web-app"; continue; \
	  fi; \
	  [ -d $$dir/tests ] || continue; \
	  name=$$(sed -n 's/^name = "\(.*\)"/\1/p' $$dir/pyproject.toml | head -1); \
	  echo "=== $$name ($$dir)"; \
	  UV_PROJECT_ENVIRONMENT=.venvs/$$name $(UV) sync --frozen --package $$name --quiet || { failed="$$failed $$name"; continue; }; \
	  .venvs/$$name/bin/python -m pytest $$dir/tests $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -ne 0 ] && [ $$rc -ne 5 ]; then failed="$$failed $$name"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "FAILED:$$failed"; exit 1; fi; echo "all packages passed"

.PHONY: web-deps
web-deps: ## install the web app's Node dependencies (npm ci) when its lock file changed
	@[ $(FRONTEND)/node_modules/.package-lock.json -nt $(FRONTEND)/package-lock.json ] || \
	  $(NPM) --prefix $(FRONTEND) ci --no-audit --no-fund

.PHONY: web-build
web-build: web-deps ## build the web app into frontend/dist (what `make deploy` publishes)
	@$(NPM) --prefix $(FRONTEND) run --silent build

.PHONY: web-test
web-test: web-build ## the web app's unit tests (Vitest) and its initial-JavaScript budget
	@$(NPM) --prefix $(FRONTEND) test --silent
	@$(NPM) --prefix $(FRONTEND) run --silent budget

.PHONY: lint
lint: sync web-deps ## ruff (lint + format check), mypy, and the web app's tsc + ESLint
	@$(UV) run --frozen ruff check .
	@$(UV) run --frozen ruff format --check .
	@$(UV) run --frozen mypy $(addprefix -p ,$(notdir $(wildcard libs/*/src/ticketing_* services/*/src/ticketing_* infra/src/ticketing_* loadtest/src/ticketing_*)))
	@# The benchmark scripts are run by hand, not by a test: type-checking them is what keeps them running.
	@$(UV) run --frozen mypy $(wildcard loadtest/bench services/*/bench)
	@$(NPM) --prefix $(FRONTEND) run --silent lint

.PHONY: fmt
fmt: sync ## format and auto-fix
	@$(UV) run --frozen ruff format .
	@$(UV) run --frozen ruff check --fix .

.PHONY: migrate
migrate: sync ## apply every service's database migrations (local PostgreSQL)
	@$(UV) run --frozen python -m ticketing_devkit.dev migrate

.PHONY: dev
dev: sync web-deps ## run the whole stack locally (no Docker): migrations, demo data, every service, the web app on :5173
	@$(UV) run --frozen python -m ticketing_devkit.dev up

.PHONY: smoke
smoke: sync ## book a seat end to end against a running stack (make dev or docker compose up)
	@$(UV) run --frozen python -m ticketing_devkit.smoke $(ARGS)

.PHONY: images
images: ## build every service's image (docker, podman or buildah; BUILD_TOOL=... to choose)
	@docker/build-images.sh $(SERVICES)

.PHONY: images-smoke
images-smoke: uv ## build images with buildah from a local Debian base and run them (root; slow)
	@docker/images-smoke.sh

.PHONY: compose-check
compose-check: uv ## `docker compose up` from nothing, proven by `make smoke` (root; minutes; not in CI)
	@docker/compose-check.sh

.PHONY: deploy
deploy: sync web-build ## ship HEAD to AWS: images, migrations, ECS rollout, frontend (ARGS="--dry-run" ...)
	@$(UV) run --frozen ticketing-infra deploy $(ARGS)

.PHONY: backup
backup: sync ## on-demand backups in AWS: RDS snapshot + DynamoDB backup
	@$(UV) run --frozen ticketing-infra backup $(ARGS)

# A short, bounded load run (users, spawn rate, duration; both simulated customer kinds). Logins
# cost auth a quarter of a CPU-second each (argon2), so users arrive a few per second.
LOADTEST_ARGS ?= --users 60 --spawn-rate 3 --time 60s

.PHONY: loadtest-stack
loadtest-stack: ## `make dev` for a load test: per-address limits lifted, warnings only (loadtest/stack.env)
	@set -a && . loadtest/stack.env && set +a && $(MAKE) --no-print-directory dev

.PHONY: loadtest
loadtest: sync ## bounded Locust run against the stack on 127.0.0.1:8000, SLO verdict, correctness check
	@$(UV) run --frozen ticketing-loadtest run $(LOADTEST_ARGS)

# A short on-sale against a running `make dev`: its Redis flushed (FLUSHDB on the stack's DB 0)
# and booking SIGKILLed mid-saga, then every invariant checked (loadtest/README.md, "Chaos").
CHAOS_ARGS ?=

.PHONY: chaos
chaos: sync ## on-sale + Redis flushed + a service SIGKILLed, against make dev; invariants timed
	@$(UV) run --frozen python -m ticketing_loadtest.chaos $(CHAOS_ARGS)
