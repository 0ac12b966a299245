.PHONY: run test bench faults lint format

# Run the site on the embedded default: SQLite, filesystem broker, demo gateway.
run:
	bash scripts/run.sh

# The whole test suite on PostgreSQL + Redis + Chromium, then a smoke run of `make run`.
test:
	bash scripts/test.sh

# Benchmarks (not part of `make test`): prints numbers and ratios.
bench:
	bash scripts/bench.sh

# The fault suite at full size (1,000 jobs, a 5-minute soak…), printing each scenario's figures.
# Quick versions of the same scenarios run in `make test`.
faults:
	FAULTS_FULL=1 DATABASE_URL="$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/rival}" \
	REDIS_URL="$${REDIS_URL:-redis://127.0.0.1:6379/9}" \
	bash scripts/uv.sh run pytest tests/faults -s -q -p no:cacheprovider

lint:
	bash scripts/uv.sh run ruff check .
	bash scripts/uv.sh run ruff format --check .

format:
	bash scripts/uv.sh run ruff format .
	bash scripts/uv.sh run ruff check --fix .
