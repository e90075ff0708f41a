#!/usr/bin/env python3
"""Peak resident size of talentgraph builds under the heaviest answer of the
benchmark (talentFlows over all destinations, c=32), interleaved.

    python3 bench/results/2026-12-07-session8-memory.py NAME=BINARY [NAME=BINARY ...]

Each round starts each binary fresh on the compare database, warms it up for
3 s, then samples VmRSS every 100 ms through a 10-s wrk run."""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import compare  # noqa: E402

DB = "postgres://postgres@127.0.0.1:5432/talentgraph_compare"
OUT = Path("bench/out")
OUT.mkdir(parents=True, exist_ok=True)
doc = json.loads((compare.BENCH / "analytics-queries.json").read_text())["talentFlows OUTBOUND, all destinations"]
query = compare.Query("flows_all", doc, "{}")
builds = [arg.split("=", 1) for arg in sys.argv[1:]]
for round_ in range(1, 4):
    for name, binary in builds:
        server = compare.Server(name, "http://127.0.0.1:8280/graphql", [binary, "serve"],
                                {"DATABASE_URL": DB, "TALENTGRAPH_LISTEN": "127.0.0.1:8280",
                                 "RUST_LOG": "warn", "TALENTGRAPH_RATE_LIMIT_CAPACITY": "0"},
                                None, OUT / f"memory-{name}.log")
        server.start()
        try:
            compare.wrk(server.url, query, 32, 3, OUT, None)
            sampler = compare.RssSampler(server.proc.pid)
            sampler.start()
            result = compare.wrk(server.url, query, 32, 10, OUT, None)
            peak = sampler.finish()
        finally:
            server.stop()
        print(f"round {round_} {name}: peak RSS {peak:.0f} MB, {result['rps']:.1f} req/s, "
              f"p99 {result['p99']:.0f} ms, {result['errors']} errors", flush=True)
