# CNN Explorer: the README's two commands are `make app` and `make test`.
# Both first create or refresh .venv from requirements.lock (scripts/setup_venv.sh; instant when up to date).

VENV := .venv
BIN := $(VENV)/bin

.PHONY: app test setup lock examples screenshots

## Launch the app (http://localhost:8501).
app: setup
	$(BIN)/streamlit run app.py

## Run the test suite. One command per line; any failing step fails the target (pytest's exit
## status 5, "no tests ran", included). Add further checks (e.g. `$(BIN)/lint-imports`) as new lines.
test: setup
	$(BIN)/python -m pytest

## Create or refresh .venv when the lock, pyproject.toml or Python changed.
setup:
	@scripts/setup_venv.sh

## Refresh requirements.lock from pyproject.toml (hashes included). `make lock ARGS=--upgrade` upgrades every pin.
lock: setup
	$(BIN)/pip-compile --quiet --extra dev --extra mlflow --extra shared --generate-hashes --allow-unsafe --strip-extras \
	  --no-emit-index-url --no-emit-find-links $(ARGS) -o requirements.lock pyproject.toml

## Redraw the example letters in assets/examples/.
examples: setup
	$(BIN)/python scripts/make_examples.py

## Start the app and screenshot the main pages into assets/screenshots/ (needs Debian's chromium).
screenshots: setup
	$(BIN)/python scripts/screenshots.py
