"""`make bench-ab`: the todo service against variants of itself, all measured at the same time.

    .venv/bin/python -m bench.ab [--scenario "GET /todos/{id}"] [--variant NAME:VAR=VALUE,...]...
                                 [--baseline] [--rounds 6] [--seconds 10]

`make bench` alternates rounds, as the performance issue asks, and on a virtual machine whose
speed drifts from one round to the next its ratios move by ±10 % between runs of the same code.
Servers loaded at the same time share the drift: the ratio of their CPU time per request moved
by about ±5 % from round to round in this project's runs (±10 % now and then), and the median
of six rounds is steadier, enough to see what one setting costs. Each variant is a todo server
with some environment variables changed (``--variant quiet:TODO_LOG_LEVEL=WARNING`` measures
the access log); ``--baseline`` adds the hand-written baseline. Read scenarios and
``POST /todos`` only: the PATCH and refresh pools cannot be shared by servers running at once.
Nothing is written.
"""

from __future__ import annotations

import argparse
import statistics
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime

from tests.support.gunicorn import GunicornServer

from bench import wrk
from bench.run import WORKDIR, Bench, Scenario
from bench.stack import DEFAULT_WORKERS, TODO_DB, cpu_seconds, running_stack

#: Scenarios whose data servers running at once can share.
SHAREABLE = ("GET /todos (page of 20)", "GET /todos/{id}", "POST /todos")
REFERENCE = "service"


@dataclass(frozen=True)
class Measured:
    cpu_us_per_request: float
    requests_per_second: float


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    """``NAME:VAR=VALUE,VAR=VALUE`` -> (NAME, {VAR: VALUE})."""
    name, _, assignments = text.partition(":")
    environment = {}
    for assignment in filter(None, assignments.split(",")):
        variable, equals, value = assignment.partition("=")
        if not equals or not variable:
            raise argparse.ArgumentTypeError(f"{assignment!r} is not VAR=VALUE")
        environment[variable] = value
    if not name or name in (REFERENCE, "baseline") or not environment:
        raise argparse.ArgumentTypeError(f"{text!r}: give NAME:VAR=VALUE[,VAR=VALUE...]")
    return name, environment


def one_round(
    servers: dict[str, GunicornServer], scenario: Scenario, seconds: float, connections: int
) -> dict[str, Measured]:
    """Every server under the same load at the same time, after a short warm-up each."""

    def load(name: str, seconds: float, env: dict[str, str]) -> wrk.Result:
        url = servers[name].url
        return wrk.run(
            url, scenario.script, threads=1, connections=connections, seconds=seconds, env=env
        )

    for name in servers:
        load(name, 2, scenario.env())
    # Fresh pools for the measured runs (the scripts' data is single-use), fetched before any
    # server's CPU time is read.
    environments = {name: scenario.env() for name in servers}
    started = {name: cpu_seconds(server) for name, server in servers.items()}
    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        runs = {name: pool.submit(load, name, seconds, environments[name]) for name in servers}
        results = {name: run.result() for name, run in runs.items()}  # a failed run raises
    return {
        name: Measured(
            (cpu_seconds(server) - started[name]) / max(1, results[name].requests) * 1e6,
            results[name].requests_per_second,
        )
        for name, server in servers.items()
    }


def report(rounds: list[dict[str, Measured]]) -> None:
    print(f"\nmedians of {len(rounds)} rounds; ratios to {REFERENCE!r} in the same round")
    print(f"{'server':<16} {'CPU µs/req':>10} {'ratio':>6} {'req/s':>8} {'ratio':>6}  CPU ratios")
    for name in rounds[0]:
        cpu = [each[name].cpu_us_per_request for each in rounds]
        rate = [each[name].requests_per_second for each in rounds]
        cpu_ratios = [
            each[name].cpu_us_per_request / each[REFERENCE].cpu_us_per_request for each in rounds
        ]
        rate_ratios = [
            each[name].requests_per_second / each[REFERENCE].requests_per_second for each in rounds
        ]
        print(
            f"{name:<16} {statistics.median(cpu):>10.0f} {statistics.median(cpu_ratios):>6.3f} "
            f"{statistics.median(rate):>8.0f} {statistics.median(rate_ratios):>6.3f}  "
            + " ".join(f"{ratio:.3f}" for ratio in cpu_ratios)
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="GET /todos/{id}", choices=SHAREABLE)
    parser.add_argument(
        "--variant", action="append", default=[], type=parse_variant, metavar="NAME:VAR=VALUE,..."
    )
    parser.add_argument("--baseline", action="store_true", help="the baseline runs alongside")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds per round")
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=16, help="split among the servers")
    args = parser.parse_args(argv)
    if not args.variant and not args.baseline:
        parser.error("nothing to compare: give --variant and/or --baseline")
    workdir = WORKDIR / datetime.now(UTC).strftime("ab-%Y%m%dT%H%M%S")
    workdir.mkdir(parents=True)
    print(f"servers' logs and data: {workdir}", flush=True)
    with running_stack(workdir, workers=args.workers) as stack, ExitStack() as variants:
        servers = {REFERENCE: stack.todo}
        for name, environment in args.variant:
            server = stack.todo_server(TODO_DB, workers=args.workers, environment=environment)
            servers[name] = variants.enter_context(server)
        if args.baseline:
            servers["baseline"] = stack.baseline
        connections = max(2, args.connections // len(servers))
        bench = Bench(stack, wrk.Load(1, connections, args.seconds, 0))
        [scenario] = [each for each in bench.scenarios([]) if each.name == args.scenario]
        rounds = []
        for number in range(1, args.rounds + 1):
            measured = one_round(servers, scenario, args.seconds, connections)
            rounds.append(measured)
            print(
                f"round {number}: "
                + ", ".join(
                    f"{name} {each.cpu_us_per_request:.0f} µs/req {each.requests_per_second:.0f}/s"
                    for name, each in measured.items()
                ),
                flush=True,
            )
        report(rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
