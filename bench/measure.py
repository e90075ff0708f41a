#!/usr/bin/env python3
"""Times GraphQL queries against a running talentgraph: each query is sent
`--runs` times one after another (after a warm-up), every response is checked
for errors, and the latency percentiles are printed as a Markdown table.

Usage: measure.py URL QUERIES.json [--runs N]
QUERIES.json maps a name to a GraphQL document.
"""
import argparse
import json
import statistics
import time
import urllib.request


def post(url, query):
    body = json.dumps({"query": query}).encode()
    request = urllib.request.Request(url, body, {"content-type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        payload = json.load(response)
    elapsed = (time.perf_counter() - started) * 1000
    if payload.get("errors"):
        raise SystemExit(f"query failed: {payload['errors']}")
    return elapsed, payload


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("queries")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with open(args.queries) as f:
        queries = json.load(f)
    print("| query | p50 ms | p95 ms | max ms | runs |")
    print("|---|---:|---:|---:|---:|")
    for name, query in queries.items():
        for _ in range(3):
            post(args.url, query)
        times = sorted(post(args.url, query)[0] for _ in range(args.runs))
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"| {name} | {statistics.median(times):.1f} | {p95:.1f} | {times[-1]:.1f} | {args.runs} |")


if __name__ == "__main__":
    main()
