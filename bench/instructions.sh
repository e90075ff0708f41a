#!/usr/bin/env bash
# Server instructions per request for one benchmark shape, counted by
# callgrind: the same count run after run for the same binary, database and
# request, whatever else the machine is doing, where wall-clock A/B on a
# shared VM swings by a third. Counts the server only (not PostgreSQL).
#
#   bench/instructions.sh BIN SHAPE [N=20]      # e.g. target/release/talentgraph d_publications
#
# Starts BIN under valgrind against BENCH_DATABASE_URL (loaded as by
# bench/compare.sh, RELOAD=0 keeps it), sends the shape's request
# (bench/queries/talentgraph/SHAPE*.graphql, with its bench-vars; a random-slug
# shape gets the first person's slug) ten times to warm it, then N times with
# instrumentation on, and prints the instructions per request. Needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$1"; shape="$2"; n="${3:-20}"; port="${PORT:-8290}"
db="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/talentgraph_compare}"
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is needed" >&2; exit 1; }
query=$(ls bench/queries/talentgraph/"$shape"*.graphql | head -1)
out=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$out"' EXIT
python3 - "$query" "$db" > "$out/body.json" <<'PY'
import json, re, subprocess, sys
doc = open(sys.argv[1]).read()
spec = (re.search(r"# bench-vars: (.*)", doc) or [None, "{}"])[1].strip()
if spec == "@random-person-slug":
    slug = subprocess.run(["psql", sys.argv[2], "-XAtc", "SELECT slug FROM people ORDER BY id LIMIT 1"],
                          capture_output=True, text=True, check=True).stdout.strip()
    variables = {"slug": slug}
else:
    variables = json.loads(spec)
print(json.dumps({"query": doc, "variables": variables}))
PY
TALENTGRAPH_DB_POOL_SIZE=4 DATABASE_URL="$db" TALENTGRAPH_LISTEN="127.0.0.1:$port" RUST_LOG=warn \
  TALENTGRAPH_RATE_LIMIT_CAPACITY=0 valgrind --tool=callgrind --instr-atstart=no \
  --callgrind-out-file="$out/callgrind.out" "$bin" serve > "$out/valgrind.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.5; done
post() { curl -sf -o /dev/null -H content-type:application/json --data-binary @"$out/body.json" "http://127.0.0.1:$port/graphql"; }
for _ in $(seq 1 10); do post; done
callgrind_control -i on "$pid" >/dev/null 2>&1
for _ in $(seq 1 "$n"); do post; done
callgrind_control -i off "$pid" >/dev/null 2>&1
callgrind_control -d "$pid" >/dev/null 2>&1
total=$(awk '/^totals:/ {print $2}' "$out"/callgrind.out.1)
echo "$shape $(basename "$bin"): $(( total / n )) instructions per request (of $n)"
