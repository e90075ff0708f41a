#!/usr/bin/env bash
# 1,000 concurrent subscribers (the graphql-ws npm client) on one talentgraph
# process, one write fanned out to all of them; prints delivery p50/p99 per
# round and the server's resident memory. About a minute after the build.
#
#   bench/subscriptions.sh [SUBSCRIBERS]
#
# Needs node, npm (the packages are cached in target/graphql-ws-client), psql,
# and PostgreSQL on DATABASE_URL's server; it uses its own database, dropped
# afterwards. PROFILE=debug skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."

SUBSCRIBERS="${1:-1000}"
PORT="${PORT:-8097}"
PROFILE="${PROFILE:-release}"
BASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/talentgraph}"
BENCH_DATABASE_URL="${BASE_URL%/*}/talentgraph_bench_live"
CLIENT_DIR="$PWD/target/graphql-ws-client"

ulimit -n 65536 2>/dev/null || true
mkdir -p "$CLIENT_DIR"
if [ ! -f "$CLIENT_DIR/node_modules/graphql-ws/package.json" ]; then
  echo '{"private":true,"type":"module"}' >"$CLIENT_DIR/package.json"
  (cd "$CLIENT_DIR" && npm install --silent --no-audit --no-fund graphql-ws@6.4.2 ws@8.23.1 >/dev/null)
fi
cp bench/subscriptions.mjs "$CLIENT_DIR/"

if [ "$PROFILE" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
DATABASE_URL="$BENCH_DATABASE_URL" TALENTGRAPH_LISTEN="127.0.0.1:$PORT" RUST_LOG=warn \
  "target/$PROFILE/talentgraph" serve --seed &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  psql "${BASE_URL%/*}/postgres" -qc "DROP DATABASE IF EXISTS talentgraph_bench_live WITH (FORCE)"
}
trap cleanup EXIT
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
node "$CLIENT_DIR/subscriptions.mjs" "ws://127.0.0.1:$PORT/graphql" "$BENCH_DATABASE_URL" "$server" "$SUBSCRIBERS"
