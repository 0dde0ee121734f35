"""A bounded HTTP load client, run as its own process: `python -m tests.benchmarks.load`.

Keeps `--concurrency` requests in flight for `--seconds` (or `--requests`), then prints one
JSON line: requests, errors, req/s, p50 and p99 latency in milliseconds. `{n}` in the path,
body or a header is replaced by a per-request counter, so POSTs can make distinct resources
(and use distinct idempotency keys).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time

import httpx


def run(url: str, method: str, body: str | None, seconds: float, requests: int,
        concurrency: int, headers: dict[str, str] | None = None) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    counter = 0
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        nonlocal errors, counter
        with httpx.Client(timeout=30, headers={"Content-Type": "application/json"}) as client:
            while True:
                with lock:
                    if time.monotonic() >= deadline or counter >= requests:
                        return
                    counter += 1
                    n = counter
                content = body.replace("{n}", str(n)) if body else None
                sent = {name: value.replace("{n}", str(n)) for name, value in (headers or {}).items()}
                started = time.perf_counter()
                try:
                    response = client.request(method, url.replace("{n}", str(n)), content=content,
                                              headers=sent)
                    failed = response.status_code >= 400
                except httpx.HTTPError:
                    failed = True
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    errors += failed

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / wall if wall else 0.0,
        "p50_ms": quantiles[49] * 1000,
        "p99_ms": quantiles[98] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--requests", type=int, default=10**9)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--header", action="append", default=[], metavar="NAME:VALUE",
                        help="sent with every request; {n} is replaced as in the body")
    args = parser.parse_args()
    headers = dict(header.split(":", 1) for header in args.header)
    print(json.dumps(run(args.url, args.method, args.body, args.seconds, args.requests,
                         args.concurrency, {k.strip(): v.strip() for k, v in headers.items()})))


if __name__ == "__main__":
    main()
