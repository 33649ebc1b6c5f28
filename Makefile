.PHONY: run test setup lint bench
run:
	./dev run
test:
	./dev test
setup:
	./dev setup
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
bench:
	.venv/bin/python benchmarks/auth.py && .venv/bin/python benchmarks/stats.py && .venv/bin/python benchmarks/load.py
