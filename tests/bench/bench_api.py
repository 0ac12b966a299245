"""Developer API and dataset export benchmark.

Run with `make bench` (or `uv run python -m tests.bench.bench_api`). On bench_pages' large
dataset (same database, same builder: 300 models, 200 challenges, 40k responses, 1M votes)
it

1. starts gunicorn as bench_pages does (the API's rate limit lifted for the run) and drives
   each API list endpoint — first pages and a cursor's second page — for BENCH_SECONDS with
   BENCH_CLIENTS clients, printing p50/p99 server time against the issue's budget
   (p50 ≤ 20 ms), with /robots.txt as the trivial baseline;
2. exports the JSON Lines folder and then every dataset file, printing time, rows and peak
   Python memory (tracemalloc) — streaming means the peak stays far below the output size.
"""

import http.client
import json
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault("API_RATE_LIMIT", "1000000000/60")

from tests.bench import bench_pages as pages  # noqa: E402  (sets up Django on the bench DB)

# isort: split

import numpy as np  # noqa: E402
from django.db import connection  # noqa: E402

from apps.catalog.models import AIModel  # noqa: E402
from apps.datasets import export  # noqa: E402
from apps.developers import datasets  # noqa: E402
from tests.bench.pages_dataset import dataset_build  # noqa: E402

P50_BUDGET_MS = 20
EXPORT_BUDGET_S = 30


def api_urls() -> dict[str, str]:
    busiest = (
        AIModel.objects.filter(slug__startswith="gen-")
        .order_by("pk")
        .values_list("slug", flat=True)
        .first()
    )
    return {
        "models": "/api/v1/models?limit=50",
        "models updated": "/api/v1/models?limit=100&sort=-updated_at",
        "creators": "/api/v1/creators",
        "challenges": "/api/v1/challenges?limit=50",
        "responses": "/api/v1/responses?limit=50",
        "responses model": f"/api/v1/responses?limit=50&model={busiest}",
        "leaderboard": "/api/v1/leaderboard",
        "snapshots": "/api/v1/leaderboard/snapshots",
    }


def second_page(port: int, path: str) -> str | None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers={"Host": "127.0.0.1"})
    body = json.loads(conn.getresponse().read())
    conn.close()
    cursor = body.get("next_cursor")
    return f"{path}&cursor={cursor}" if cursor else None


def bench_api() -> None:
    urls = api_urls()
    connection.close()
    port = pages.free_port()
    with tempfile.TemporaryDirectory(prefix="rival-bench-api-") as tmp:
        server, log = pages.gunicorn_start(port, Path(tmp))
        try:
            for path in [pages.BASELINE, *urls.values()]:
                pages.drive(port, path, 0.5, pages.CLIENTS)
            for name in ("responses", "models"):
                if page_two := second_page(port, urls[name]):
                    urls[f"{name} page 2"] = page_two
                    pages.drive(port, page_two, 0.5, pages.CLIENTS)
            targets = [("trivial", pages.BASELINE), *urls.items()]
            offset = log.stat().st_size
            print(f"\n{'endpoint':<20} {'req':>6} {'p50 ms':>7} {'p99 ms':>7} {'req/s':>7}  budget")
            for name, path in targets:
                requests, elapsed = pages.drive(port, path, pages.SECONDS, pages.CLIENTS)
                time.sleep(0.2)
                times, statuses, offset = pages.server_times(log, offset, path)
                p50, p99 = np.percentile(times, 50), np.percentile(times, 99)
                verdict = (
                    "(baseline)"
                    if name == "trivial"
                    else f"p50 {'met' if p50 <= P50_BUDGET_MS else 'MISSED'}"
                )
                bad = {s: n for s, n in statuses.items() if s != "200"}
                if bad:
                    verdict += f" — non-200: {bad}"
                print(
                    f"{name:<20} {times.size:>6} {p50:>7.1f} {p99:>7.1f} "
                    f"{requests / elapsed:>7.0f}  {verdict}"
                )
        finally:
            pages.gunicorn_stop(server)
    print(
        f"budget: p50 ≤ {P50_BUDGET_MS} ms server time (issue 12); load average "
        + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    )


def measured(label: str, work):
    tracemalloc.start()
    started = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result, elapsed, peak / 2**20, rss, label


def bench_export() -> None:
    with tempfile.TemporaryDirectory(prefix="rival-bench-export-") as tmp:
        root = Path(tmp)
        files, elapsed, peak, rss, _ = measured("jsonl", lambda: export.write_jsonl_folder(root))
        rows = {f.name: f.rows for f in files}
        size = sum(f.bytes for f in files) / 2**20
        print(
            f"\nJSONL export: {rows} — {size:.1f} MiB in {elapsed:.1f} s "
            f"(budget ≤ {EXPORT_BUDGET_S} s: {'met' if elapsed <= EXPORT_BUDGET_S else 'MISSED'}); "
            f"peak Python memory {peak:.1f} MiB ({peak / max(size, 0.001):.2f}× the output), "
            f"process max RSS {rss:.0f} MiB"
        )
        manifest, elapsed, peak, rss, _ = measured("all", lambda: datasets.build(root))
        size = sum(f["bytes"] for f in manifest["files"]) / 2**20
        print(
            f"every dataset file ({len(manifest['files'])}): {size:.1f} MiB in {elapsed:.1f} s; "
            f"peak Python memory {peak:.1f} MiB, process max RSS {rss:.0f} MiB"
        )


def main() -> None:
    if connection.vendor != "postgresql":
        raise SystemExit("bench_api needs PostgreSQL: set DATABASE_URL=postgres://…")
    dataset_build(recreate_database=pages.recreate_database)
    bench_api()
    bench_export()


if __name__ == "__main__":
    main()
