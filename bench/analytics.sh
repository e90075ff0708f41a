#!/usr/bin/env bash
# Benchmarks the analytic fields on a synthetic data set (default 100,000
# people, 300,000 stints, 5,000 organizations) against the release build.
#
#   bench/analytics.sh                 # full size
#   PEOPLE=2000 ORGS=200 RUNS=5 bench/analytics.sh   # a smoke run in seconds
#
# Uses its own database (BENCH_DATABASE_URL), dropped and rebuilt each run.
set -euo pipefail
cd "$(dirname "$0")/.."

PEOPLE="${PEOPLE:-100000}"
ORGS="${ORGS:-5000}"
RUNS="${RUNS:-50}"
PORT="${PORT:-8097}"
BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/talentgraph_bench}"
PROFILE="${PROFILE:-release}"

server_url="${BENCH_DATABASE_URL%/*}/postgres"
db_name="${BENCH_DATABASE_URL##*/}"
psql "$server_url" -qc "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)"

if [ "$PROFILE" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
bin="target/$PROFILE/talentgraph"
DATABASE_URL="$BENCH_DATABASE_URL" "$bin" migrate 2>/dev/null

started=$(date +%s%N)
psql "$BENCH_DATABASE_URL" -q -v people="$PEOPLE" -v orgs="$ORGS" -f bench/synthetic.sql
echo "synthetic data: $PEOPLE people, $ORGS organizations, loaded in $(( ($(date +%s%N) - started) / 1000000 )) ms"

DATABASE_URL="$BENCH_DATABASE_URL" TALENTGRAPH_LISTEN="127.0.0.1:$PORT" RUST_LOG=warn "$bin" serve &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  # DROP_DATABASE=1 (the CI smoke run) leaves nothing behind.
  if [ "${DROP_DATABASE:-0}" = 1 ]; then
    wait "$server" 2>/dev/null || true
    psql "$server_url" -qc "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)"
  fi
}
trap cleanup EXIT
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done

echo "machine: $(nproc) cores, $(uname -sr); PostgreSQL $(psql "$BENCH_DATABASE_URL" -Atc 'SHOW server_version')"
python3 bench/measure.py "http://127.0.0.1:$PORT/graphql" bench/analytics-queries.json --runs "$RUNS"
