.PHONY: run test bench lint format

# Run the site on the embedded default: SQLite, filesystem broker, demo gateway.
run:
	bash scripts/run.sh

# The whole test suite on PostgreSQL + Redis + Chromium, then a smoke run of `make run`.
test:
	bash scripts/test.sh

# Benchmarks (not part of `make test`): prints numbers and ratios.
bench:
	bash scripts/bench.sh

lint:
	bash scripts/uv.sh run ruff check .
	bash scripts/uv.sh run ruff format --check .

format:
	bash scripts/uv.sh run ruff format .
	bash scripts/uv.sh run ruff check --fix .
