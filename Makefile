.PHONY: run test setup lint typecheck bench
run:
	./dev run
test:
	./dev test
setup:
	./dev setup
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
typecheck:
	./dev typecheck
bench:
	.venv/bin/python benchmarks/auth.py && .venv/bin/python benchmarks/stats.py && .venv/bin/python benchmarks/load.py
