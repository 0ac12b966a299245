"""Every public page under a real load tool, as a visitor's client sees it.

Run with `make bench` (or `uv run python -m tests.bench.bench_load`). On bench_pages' dataset
(300 models, 200 challenges, 40k responses, 1M votes; built or reused the same way) it starts
gunicorn (3 sync workers, DEBUG=0) twice, each time with an empty cache (a fresh key prefix):

1. cached: the anonymous page cache on (PAGE_CACHE_SECONDS=600); one request per page warms
   it, then wrk drives each page;
2. uncached: the page cache off (PAGE_CACHE_SECONDS=0): every request renders the page, with
   the cached page regions ({% fragment %}, per content version) kept, as in production;
   then one connection alone per page, which is the page's own cost without queueing;
3. cold: the page cache and the region cache off (FRAGMENT_CACHE_SECONDS=0), one connection
   alone per page: what a page costs right after a write, when every region renders again.

wrk runs BENCH_CONNECTIONS (16) connections for BENCH_LOAD_SECONDS (8 s) per URL and reports
client-observed latency (queueing included) and requests per second; the trivial view
(/robots.txt: no query, the same middleware) is measured in both runs as the yardstick. wrk is
installed with apt-get when missing. The results go to docs/benchmarks.md and
docs/benchmarks.svg (BENCH_DOCS=0: print only). BENCH_LOAD_ONLY=cached runs the cached half
alone and prints its table with the workers' CPU time per request (steadier than throughput on a
busy machine), never written to the docs: a quicker check of the cache's hit path.
"""

import http.client
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from tests.bench import bench_pages
from tests.bench.bench_pages import (
    BASELINE,
    ROOT,
    canonical,
    connection,
    dataset_build,
    free_port,
    gunicorn_start,
    gunicorn_stop,
    pick_urls,
    recreate_database,
)

SECONDS = int(os.environ.get("BENCH_LOAD_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
SOLO_SECONDS = int(os.environ.get("BENCH_SOLO_SECONDS_WRK", "3"))
ONLY_CACHED = os.environ.get("BENCH_LOAD_ONLY", "") == "cached"
WRITE_DOCS = os.environ.get("BENCH_DOCS", "1") == "1" and not ONLY_CACHED
DOCS = ROOT / "docs" / "benchmarks.md"
KEPT_SECTIONS = "\n## Leaderboard recompute"
CHART = ROOT / "docs" / "benchmarks.svg"
CACHED_P50_MS, CACHED_P99_MS, CACHED_SHARE = 10, 50, 0.5
MISS_MS = 15


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is not installed: installing it with apt-get")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run([*sudo, "apt-get", "install", "-y", "-q", "wrk"], check=True)
    return shutil.which("wrk") or "/usr/bin/wrk"


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * UNITS[unit]


def wrk(port: int, path: str, seconds: int, connections: int) -> dict:
    """One wrk run; {"rps", "p50", "p99", "requests", "errors", "non2xx"} (ms)."""
    out = subprocess.run(
        [wrk_path(), f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s"]
        + [
            "--timeout",
            "30s",
            "--latency",
            "-H",
            "Accept-Encoding: gzip",
            f"http://127.0.0.1:{port}{path}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # wrk pads a value in seconds ("1.23s ") to line up with "ms" and "us".
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
        "p50": _ms(percentiles["50"]) if "50" in percentiles else float("nan"),
        "p99": _ms(percentiles["99"]) if "99" in percentiles else float("nan"),
        "requests": int(re.search(r"(\d+) requests in", out)[1]),
        "errors": sum(int(n) for n in errors.groups()) if errors else 0,
        "non2xx": int(non2xx[1]) if non2xx else 0,
    }


def workers_cpu_seconds(master: int) -> float:
    """User + system CPU time used so far by gunicorn's workers (the master's children): on a
    shared machine, CPU per request is steadier than throughput."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name (field 2) may hold spaces: split after its closing parenthesis.
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_ready(port: int, timeout: float = 300) -> None:
    """gunicorn listens before its workers have imported Django: wait for a real answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            conn.request("GET", BASELINE, headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                return
        except (OSError, http.client.HTTPException):
            time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer within {timeout:.0f} s")


def run_server(
    urls: dict, *, cached: bool, fragments: bool = True, solo_only: bool = False
) -> tuple[dict, dict]:
    """Start gunicorn, drive every URL; returns (under load, one client alone) per name.
    `fragments=False` turns the page regions' cache off too (a cold render: what a page costs
    right after a write); `solo_only` measures the one client alone."""
    os.environ["PAGE_CACHE_SECONDS"] = "600" if cached else "0"
    os.environ["FRAGMENT_CACHE_SECONDS"] = "3600" if fragments else "0"
    port = free_port()
    loaded, solo = {}, {}
    with tempfile.TemporaryDirectory(prefix="rival-bench-") as tmp:
        server, _ = gunicorn_start(port, Path(tmp))
        try:
            wait_ready(port)
            targets = {"trivial": BASELINE} | {n: canonical(port, p) for n, p in urls.items()}
            for path in targets.values():
                wrk(port, path, 1, 2)  # warm up: workers, connections, the cache when on
            for name, path in targets.items():
                if not cached:
                    # Before the load: requests wrk leaves in gunicorn's queue would be
                    # counted as this one client's wait.
                    solo[name] = wrk(port, path, SOLO_SECONDS, 1)
                if solo_only:
                    continue
                cpu = workers_cpu_seconds(server.pid)
                loaded[name] = wrk(port, path, SECONDS, CONNECTIONS)
                cpu = workers_cpu_seconds(server.pid) - cpu
                loaded[name]["cpu_ms"] = cpu * 1000 / max(1, loaded[name]["requests"])
                print(
                    f"  {'cached' if cached else 'uncached'} {name}: "
                    f"{loaded[name]['rps']:,.0f} req/s, p50 {loaded[name]['p50']:.1f} ms, "
                    f"p99 {loaded[name]['p99']:.1f} ms, "
                    f"{loaded[name]['cpu_ms']:.2f} ms worker CPU per request",
                    flush=True,
                )
        finally:
            gunicorn_stop(server)
    return loaded, solo


def verdicts(name: str, cached: dict, trivial: float) -> str:
    if name == "trivial":
        return "(yardstick)"
    share = cached["rps"] / trivial
    checks = [
        ("share", share >= CACHED_SHARE),
        ("p50", cached["p50"] <= CACHED_P50_MS),
        ("p99", cached["p99"] <= CACHED_P99_MS),
    ]
    return ", ".join(f"{label} {'met' if ok else 'MISSED'}" for label, ok in checks)


def table(urls: dict, cached: dict, uncached: dict, solo: dict, cold: dict) -> list[str]:
    trivial = cached["trivial"]["rps"]
    lines = [
        "| page | cached req/s | ÷ trivial | cached p50 | cached p99 | uncached req/s "
        "| uncached p50 | uncached p99 | one client p50 | one client cold p50 "
        "| cached targets | miss ≤ 15 ms (warm / cold) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for name in ["trivial", *urls]:
        c, u, s, k = cached[name], uncached[name], solo[name], cold[name]
        miss = (
            "—"
            if name == "trivial"
            else " / ".join("met" if r["p50"] <= MISS_MS else "MISSED" for r in (s, k))
        )
        lines.append(
            f"| {name} | {c['rps']:,.0f} | {c['rps'] / trivial:.2f} | {c['p50']:.1f} ms "
            f"| {c['p99']:.1f} ms | {u['rps']:,.0f} | {u['p50']:.1f} ms | {u['p99']:.1f} ms "
            f"| {s['p50']:.1f} ms | {k['p50']:.1f} ms | {verdicts(name, c, trivial)} | {miss} |"
        )
    return lines


def cached_table(urls: dict, cached: dict) -> list[str]:
    trivial = cached["trivial"]["rps"]
    lines = [
        "| page | cached req/s | ÷ trivial | cached p50 | cached p99 | worker CPU per request "
        "| cached targets |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name in ["trivial", *urls]:
        c = cached[name]
        lines.append(
            f"| {name} | {c['rps']:,.0f} | {c['rps'] / trivial:.2f} | {c['p50']:.1f} ms "
            f"| {c['p99']:.1f} ms | {c['cpu_ms']:.2f} ms | {verdicts(name, c, trivial)} |"
        )
    return lines


def chart(urls: dict, cached: dict, uncached: dict) -> str:
    """Horizontal bars: requests per second per page, cached and uncached."""
    names = ["trivial", *urls]
    top = max(max(cached[n]["rps"], uncached[n]["rps"]) for n in names) or 1
    label_w, bar_w, row_h, pad = 150, 560, 34, 40
    height = pad + row_h * len(names) + 40
    width = label_w + bar_w + 90
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="t d" '
        'font-family="sans-serif" font-size="12">',
        "<title id='t'>Requests per second per page, cached and uncached</title>",
        f"<desc id='d'>wrk, {CONNECTIONS} connections, gunicorn with 3 sync workers.</desc>",
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<rect x="{label_w}" y="10" width="12" height="12" fill="#1f5fa8"/>'
        f'<text x="{label_w + 18}" y="20">cached</text>'
        f'<rect x="{label_w + 90}" y="10" width="12" height="12" fill="#b8860b"/>'
        f'<text x="{label_w + 108}" y="20">uncached</text>',
    ]
    for i, name in enumerate(names):
        y = pad + i * row_h
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(name)}</text>'
        )
        for j, (result, colour) in enumerate(((cached, "#1f5fa8"), (uncached, "#b8860b"))):
            rps = result[name]["rps"]
            w = max(1, rps / top * bar_w)
            parts.append(
                f'<rect x="{label_w}" y="{y + j * 13}" width="{w:.1f}" height="12" '
                f'fill="{colour}"/><text x="{label_w + w + 4:.1f}" y="{y + j * 13 + 10}">'
                f"{rps:,.0f}</text>"
            )
    parts.append(
        f'<text x="{label_w}" y="{height - 10}">requests per second (higher is better)</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def docs(lines: list[str], urls: dict, load_before: str) -> str:
    machine = f"{platform.node()}: {os.cpu_count()} CPUs, {platform.platform(terse=True)}"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    pages = "\n".join(f"- {name}: `{path}`" for name, path in urls.items())
    return f"""# Benchmarks

Written by `make bench` (`tests/bench/bench_load.py`); the figures below are one run, on
{when}, on {machine} (load average before the run: {load_before}). The machine is shared
by gunicorn, PostgreSQL, Redis and wrk, so every number includes their contention.

**Setup.** bench_pages' dataset (300 models, 200 challenges, 40k responses, 1M votes),
gunicorn with 3 sync workers, DEBUG=0, wrk with {CONNECTIONS} connections for {SECONDS} s per
URL, client-observed latency (queueing included). *Cached*: the anonymous page cache on, warmed
with one request. *Uncached*: the page cache off (PAGE_CACHE_SECONDS=0), so every request
renders; regions cached per content version ({{% fragment %}}) are kept, as in production.
*One client*: a single connection on the uncached server, the page's own cost. *One client
cold*: the same with the region cache off too (FRAGMENT_CACHE_SECONDS=0), what a page costs
right after a write changed it.
The trivial view is `/robots.txt` (no query, the same middleware), measured in the same run.

Targets (DESIGN.md): cached pages ≥ {CACHED_SHARE:.0%} of the trivial view's throughput,
p50 ≤ {CACHED_P50_MS} ms, p99 ≤ {CACHED_P99_MS} ms; a miss ≤ {MISS_MS} ms of server time.

![Requests per second per page, cached and uncached](benchmarks.svg)

{chr(10).join(lines)}

Pages:

{pages}
"""


def main() -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("bench_load needs PostgreSQL: set DATABASE_URL=postgres://…")
    wrk_path()
    dataset_build(recreate_database=recreate_database)
    urls = pick_urls()
    connection.close()
    load_before = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"wrk: {CONNECTIONS} connections × {SECONDS} s per URL against gunicorn "
        f"({bench_pages.WORKERS} sync workers); load average {load_before}"
    )
    cached, _ = run_server(urls, cached=True)
    if ONLY_CACHED:
        print("\n".join(cached_table(urls, cached)))
        print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        return
    uncached, solo = run_server(urls, cached=False)
    _, cold = run_server(urls, cached=False, fragments=False, solo_only=True)
    lines = table(urls, cached, uncached, solo, cold)
    print("\n".join(lines))
    for name, result in [*cached.items(), *uncached.items()]:
        if result["non2xx"] or result["errors"]:
            print(f"  {name}: {result['non2xx']} non-2xx answers, {result['errors']} errors")
    if WRITE_DOCS:
        # Sections measured by other benchmarks (the recompute's) stay as they are.
        kept = DOCS.read_text().partition(KEPT_SECTIONS)[1:] if DOCS.exists() else ()
        DOCS.write_text(docs(lines, urls, load_before) + "".join(kept))
        CHART.write_text(chart(urls, cached, uncached))
        print(f"wrote {DOCS.relative_to(ROOT)} and {CHART.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
