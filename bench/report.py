"""The benchmark's outputs: bench.json, a markdown table and bench.png, also into the docs' page."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

PAGE_START, PAGE_END = "<!-- bench:start -->", "<!-- bench:end -->"


def _x(value: float | None) -> str:
    """A ratio for the table; n/a when there was nothing to compare with."""
    return "n/a" if value is None else f"{value:.2f}"


def _mark(ok: bool) -> str:
    return "yes" if ok else "**no**"


def markdown(results: dict[str, Any]) -> str:
    """The README section's tables, generated from ``results``."""
    settings, machine = results["settings"], results["machine"]
    lines = [
        f"Measured {results['generated_at']} with {machine['wrk']} on {machine['cpus']} cores "
        f"(client and servers on one machine, loopback), {settings['workers']} workers per "
        f"server ({settings.get('servers', 'gunicorn sync workers')}), "
        f"{settings['connections']} connections, "
        f"{settings['seconds']:g} s per run after {settings['warmup_seconds']:g} s of warm-up; "
        f"{machine['database']}. Ratios are service / baseline (and service / FastAPI), "
        "measured in the same run: "
        f"{_rounds(settings)}.",
        "",
        scenario_table(results["scenarios"], results["targets"]),
    ]
    targets = results["targets"]
    lines += [
        "",
        f"Targets: throughput ≥ {targets['min_throughput_ratio']} x the baseline's and "
        f"p99 ≤ {targets['max_p99_ratio']} x the baseline's, with no failed request; "
        f"ahead of FastAPI: throughput ≥ {targets.get('min_peer_throughput_ratio', 1.0)} x "
        "the faster FastAPI variant's, and a p99 no higher than that variant's.",
        "",
        "| Cost growth (one user) | p50 ms | p99 ms | p50 ratio | p99 ratio | ≤ "
        f"{targets['max_growth_ratio']} x |",
        "| --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    growth = results["growth"]
    for name, label in (
        ("list", "`GET /todos` (first page)"),
        ("deep", "`GET /todos?after=…` (900 todos in, then ~99 %)"),
        ("get", "`GET /todos/{id}`"),
    ):
        if name not in growth:  # results from before cursor pages
            continue
        case = growth[name]
        for size, key in ((growth["small_todos"], "small"), (growth["big_todos"], "big")):
            ratio = "" if key == "small" else _x(case["ratio"]["p50"])
            ratio99 = "" if key == "small" else _x(case["ratio"]["p99"])
            met = "" if key == "small" else _mark(case["meets_target"])
            measured = case[key]
            lines.append(
                f"| {label}, {size:,} todos | {_ms(measured, 'p50_ms')} "
                f"| {_ms(measured, 'p99_ms')} | {ratio} | {ratio99} | {met} |"
            )
    traced = results.get("tracing")
    if traced:
        lines += [
            "",
            f"Tracing (`{traced['scenario']}`, {traced['exporter']}): "
            f"{traced['on']['requests_per_second']:.0f} req/s on against "
            f"{traced['off']['requests_per_second']:.0f} off, "
            f"{_x(traced['ratios']['throughput'])}; p99 {_ms(traced['on'], 'p99_ms')} ms "
            f"against {_ms(traced['off'], 'p99_ms')} ms, {_x(traced['ratios']['p99'])}.",
        ]
    login, memory = results["login"], results["memory"]
    argon2 = login["argon2"]
    soak = memory["soak"]
    after_run = memory["rss_kib_after_run"]
    lines += [
        "",
        f"Login is bound by password hashing: {login['requests_per_second']:.0f} logins/s "
        f"(p50 {login['p50_ms']:.0f} ms) with {argon2['type']} t={argon2['time_cost']}, "
        f"m={argon2['memory_cost_kib']} KiB, p={argon2['parallelism']}.",
        "",
        "| Memory (RSS per worker, MiB) | " + " | ".join(after_run) + " |",
        "| --- |" + " --- |" * len(after_run),
        "| after the run | " + " | ".join(_mib(rss) for rss in after_run.values()) + " |",
        "",
        f"todo, worker recycling off: {_mib(soak['rss_kib_before'])} MiB after "
        f"{soak['warmup_requests']:,} requests, {_mib(soak['rss_kib_after'])} MiB after "
        f"{soak['requests']:,} more: {soak['growth']:+.1%} (limit "
        f"+{targets['max_memory_growth']:.0%}): {_mark(soak['meets_target'])}.",
    ]
    return "\n".join(lines) + "\n"


def _misses(row: dict[str, Any], targets: dict[str, Any]) -> str:
    """Why a scenario missed its targets, with the exact ratios (the table rounds them)."""
    ratios, failed = row["ratios"], row.get("failed", {})
    misses = []
    if ratios["throughput"] is not None and ratios["throughput"] < targets["min_throughput_ratio"]:
        misses.append(f"throughput {ratios['throughput']:.3f}")
    if ratios["p99"] is not None and ratios["p99"] > targets["max_p99_ratio"]:
        misses.append(f"p99 {ratios['p99']:.3f}")
    if any(failed.values()):
        misses.append(f"{failed['service']} / {failed['baseline']} requests failed")
    return f" ({', '.join(misses)})" if misses else ""


def scenario_table(scenarios: list[dict[str, Any]], targets: dict[str, Any] | None = None) -> str:
    """The service-beside-baseline table of ``scenarios`` (rows of bench.json), and the
    service beside the FastAPI peer's variants when they ran."""
    lines = [
        "| Scenario | req/s | baseline req/s | throughput ratio | p50 ms (ratio) "
        "| p99 ms (ratio) | server CPU µs per request (ratio) | targets met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    for row in scenarios:
        result, baseline, ratios = row["result"], row["baseline"], row["ratios"]
        cpu = row.get("cpu_us_per_request")
        cpu_cell = (
            f"{cpu['service']:.0f} / {cpu['baseline']:.0f} ({_x(ratios.get('cpu'))})"
            if cpu
            else "n/a"
        )
        misses = _misses(row, targets) if targets and not row["meets_targets"] else ""
        lines.append(
            f"| `{row['name']}` | {result['requests_per_second']:.0f} "
            f"| {baseline['requests_per_second']:.0f} | {_x(ratios['throughput'])} "
            f"| {_ms(result, 'p50_ms')} ({_x(ratios['p50'])}) "
            f"| {_ms(result, 'p99_ms')} ({_x(ratios['p99'])}) | {cpu_cell} "
            f"| {_mark(row['meets_targets'])}{misses} |"
        )
    with_peers = [row for row in scenarios if row.get("best_peer")]
    if not with_peers:
        return "\n".join(lines)
    lines += [
        "",
        "| Scenario | service req/s | FastAPI sync req/s | FastAPI async req/s "
        "| service / best FastAPI | p99 ms: service / that FastAPI (ratio) | ahead |",
        "| --- | ---: | ---: | ---: | ---: | ---: | :---: |",
    ]
    for row in with_peers:
        peers, best, ratios = row["peers"], row["best_peer"], row["peer_ratios"]
        result = row["result"]
        lines.append(
            f"| `{row['name']}` | {result['requests_per_second']:.0f} "
            f"| {peers['fastapi_sync']['requests_per_second']:.0f} "
            f"| {peers['fastapi_async']['requests_per_second']:.0f} "
            f"| {_x(ratios['throughput'])} ({best.removeprefix('fastapi_')}) "
            f"| {_ms(result, 'p99_ms')} / {_ms(peers[best], 'p99_ms')} ({_x(ratios['p99'])}) "
            f"| {_mark(row['meets_peer_targets'])} |"
        )
    return "\n".join(lines)


def _rounds(settings: dict[str, Any]) -> str:
    rounds = settings["rounds"]
    if rounds == 1:
        return "one run per side, the service first"
    return (
        f"{rounds} runs per side, the order of the sides turning by one each round, "
        "each side reported by the median of its runs (throughput, p50 and p99 each)"
    )


def _ms(result: dict[str, Any], key: str) -> str:
    """A latency, or why there is none: no request finished within the run."""
    if result["requests"] == 0:
        return f"none in {result['seconds']:.0f} s"
    return f"{result[key]:.1f}"


def _mib(values: list[int]) -> str:
    return ", ".join(f"{value / 1024:.0f}" for value in values)


def chart(results: dict[str, Any], path: Path) -> None:
    """Requests/s of each scenario beside the baseline's, and the ratios against the targets."""
    import matplotlib  # noqa: PLC0415 (only `make bench` needs it)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    rows = results["scenarios"]
    names = [row["name"].replace(" (", "\n(") for row in rows]
    positions = range(len(rows))
    figure, (left, right) = plt.subplots(1, 2, figsize=(14, 5.5))
    width = 0.38
    bars = [
        ("service", lambda row: row["result"], "#1f77b4"),
        ("baseline (hand-written Flask)", lambda row: row["baseline"], "#aaaaaa"),
    ]
    if all(row.get("peers") for row in rows):
        bars += [
            ("FastAPI, sync", lambda row: row["peers"]["fastapi_sync"], "#ff7f0e"),
            ("FastAPI, async", lambda row: row["peers"]["fastapi_async"], "#9467bd"),
        ]
    each = 0.8 / len(bars)
    for index, (label, side, color) in enumerate(bars):
        left.bar(
            [p - 0.4 + each * (index + 0.5) for p in positions],
            [side(row)["requests_per_second"] for row in rows],
            each,
            label=label,
            color=color,
        )
    left.set_yscale("log")
    left.set_ylabel("requests/s (log scale)")
    left.set_title("Throughput")
    left.set_xticks(list(positions), names, fontsize=8, rotation=20, ha="right")
    left.legend()
    right.bar(
        [p - width / 2 for p in positions],
        [row["ratios"]["throughput"] or 0 for row in rows],
        width,
        label="throughput ratio (≥ target)",
        color="#2ca02c",
    )
    right.bar(
        [p + width / 2 for p in positions],
        [row["ratios"]["p99"] or 0 for row in rows],
        width,
        label="p99 latency ratio (≤ target)",
        color="#d62728",
    )
    targets = results["targets"]
    right.axhline(targets["min_throughput_ratio"], color="#2ca02c", linestyle="--", linewidth=1)
    right.axhline(targets["max_p99_ratio"], color="#d62728", linestyle="--", linewidth=1)
    right.axhline(1.0, color="black", linewidth=0.5)
    right.set_title("Service / baseline (dashed: targets)")
    right.set_xticks(list(positions), names, fontsize=8, rotation=20, ha="right")
    right.legend(fontsize=8)
    figure.suptitle(
        f"make bench, {results['generated_at']}: {results['settings']['workers']} workers, "
        f"{results['settings']['connections']} connections, {results['machine']['cpus']} cores"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(results: dict[str, Any], directory: Path, *, page: Path | None) -> None:
    """The results in ``directory``; the table between the page's markers and the chart in its
    assets (docs/benchmarks.md, docs/assets/bench.png) when a page is given."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "bench.json").write_text(json.dumps(results, indent=2) + "\n")
    table = markdown(results)
    (directory / "bench.md").write_text(table)
    chart(results, directory / "bench.png")
    if page is not None and page.exists():
        (page.parent / "assets").mkdir(exist_ok=True)
        shutil.copyfile(directory / "bench.png", page.parent / "assets" / "bench.png")
        text = page.read_text()
        if PAGE_START in text and PAGE_END in text:
            pattern = re.compile(re.escape(PAGE_START) + ".*?" + re.escape(PAGE_END), re.DOTALL)
            page.write_text(
                pattern.sub(lambda _m: f"{PAGE_START}\n{table}{PAGE_END}", text, count=1)
            )


if __name__ == "__main__":
    # Re-render bench.md, bench.png and the docs' table and chart from a bench.json.
    import sys

    source = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/bench.json")
    write(json.loads(source.read_text()), source.parent, page=Path("docs/benchmarks.md"))
