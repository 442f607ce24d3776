# Speed and bad days: `make bench` (wrk against the services and a hand-written baseline, in one
# run, as ratios), `make bench-ab` (todo against variants of itself, all loaded at once),
# `make profile` (pyinstrument, service beside baseline), `make resilience` (database outage,
# worker kills, acknowledged writes, the 60 s soak) and `make scale-test` (two instances of each
# service behind HAProxy, under Locust's load and faults). See bench/, tests/resilience/ and
# tests/scale/. None of it runs in `make test`: timings are never asserted there.

BENCH_ARGS ?=
AB_ARGS ?= --baseline

.PHONY: wrk
wrk: ## Install wrk (Debian package) when it is missing
	@command -v wrk >/dev/null || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk; }

.PHONY: haproxy
haproxy: ## Install HAProxy (Debian package) when it is missing
	@command -v haproxy >/dev/null || { \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq haproxy; }

.PHONY: bench
bench: install devdb wrk ## Benchmark: bench/results/bench.{json,md,png} and the README table
	$(BIN)/python -m bench.run $(BENCH_ARGS)

.PHONY: bench-ab
bench-ab: install devdb wrk ## Todo against variants of itself at the same time (AB_ARGS="--variant quiet:TODO_LOG_LEVEL=WARNING")
	$(BIN)/python -m bench.ab $(AB_ARGS)

.PHONY: profile
profile: install devdb ## Profile one todo request, service beside baseline (PROFILE_ARGS=--path list)
	$(BIN)/python -m bench.profile $(PROFILE_ARGS)

.PHONY: resilience
resilience: install devdb ## Outages, worker kills, acknowledged writes and the 60 s soak
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m resilience tests/resilience $(PYTEST_ARGS)

.PHONY: scale-test
scale-test: install devdb mail-catcher haproxy ## Two of each service behind HAProxy: load, faults, invariants (~4 min)
	rm -rf build/scale/run && mkdir -p build/scale
	$(BIN)/pytest -m scale tests/scale --basetemp=build/scale/run $(PYTEST_ARGS)
	@cat build/scale/report.json
