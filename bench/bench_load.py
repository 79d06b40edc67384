"""Bounded load test against a real ``normkg serve`` on 127.0.0.1: a mix of GET /v1/norms and POST /v1/check.

Bounded in requests and in seconds, and it stops by itself. Reports requests/s, latency percentiles and
the error count (target: 0 errors), next to a baseline of the same server answering GET /healthz.

Run: .venv/bin/python bench/bench_load.py [--requests 600] [--concurrency 8] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import summary_ms, write  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
STORE = ROOT / "var" / "bench-store"
CACHE = ROOT / "var" / "bench-cache"

CONTEXTS = [
    {"country": "JP", "setting": "restaurant", "role": "customer"},
    {"country": "US", "setting": "office"},
    {"country": "IN"},
    {"setting": "train compartment", "environment": {"time of day": "night"}},
    {},
]
RESPONSES = [
    "Sure! Leave a generous tip for the server. They will appreciate it.",
    "I can't help you cheat on the exam. Studying with a friend might help, though.",
    "You should always thank your host. Bring a small gift if you can.",
    "Just take credit for the idea, nobody will notice. It's how you get ahead.",
    "Talking loudly on the phone is fine anywhere. People should mind their own business.",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(base: str, requests: int, concurrency: int, seconds: float, kind: str) -> dict[str, object]:
    rng = random.Random(3)
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            start = time.perf_counter()
            try:
                if kind == "health":
                    response = await client.get("/healthz")
                elif i % 2 == 0:
                    ctx = rng.choice(CONTEXTS)
                    params = {k: v for k, v in ctx.items() if isinstance(v, str)}
                    response = await client.get("/v1/norms", params=params)
                else:
                    body = {"response": rng.choice(RESPONSES), "context": rng.choice(CONTEXTS)}
                    response = await client.post("/v1/check", json=body)
                if response.status_code != 200:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            latencies.append(time.perf_counter() - start)

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "requests": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        **summary_ms(latencies),
    }


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args(argv or [])
    if not STORE.exists():
        from bench_serving import service

        service().store.close()
    port = free_port()
    env = dict(
        os.environ, NORMKG_STORE=f"oxigraph:{STORE}", NORMKG_CACHE_DIR=str(CACHE), NORMKG_LOG_LEVEL="WARNING"
    )
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "normkg"), "serve", "--port", str(port)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise RuntimeError("normkg serve did not come up")
        baseline = asyncio.run(run(base, args.requests, args.concurrency, args.seconds, "health"))
        mixed = asyncio.run(run(base, args.requests, args.concurrency, args.seconds, "mixed"))
    finally:
        server.terminate()
        server.wait(timeout=30)
    figures = {
        "mixed_norms_and_check": mixed,
        "baseline_healthz": baseline,
        "concurrency": args.concurrency,
        "target_errors": 0,
    }
    print(
        f"mixed /v1/norms + /v1/check  {mixed['requests_per_s']} req/s, p50 {mixed['p50_ms']} ms, "
        f"p99 {mixed['p99_ms']} ms, errors {mixed['errors']} of {mixed['requests']}"
    )
    print(f"baseline GET /healthz        {baseline['requests_per_s']} req/s, p99 {baseline['p99_ms']} ms")
    print(f"wrote {write('load', figures)}")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
