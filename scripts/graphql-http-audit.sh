#!/usr/bin/env bash
# Runs the `graphql-http` npm package's server audits (the GraphQL-over-HTTP
# specification's conformance checks) against talentgraph, prints the
# ok / warn / error counts and fails if any MUST-level audit fails.
#
#   scripts/graphql-http-audit.sh                               # builds and serves its own instance
#   scripts/graphql-http-audit.sh http://127.0.0.1:8080/graphql   # a running service
#
# Needs node and npm (registry access the first time; the packages are cached
# in $AUDIT_CACHE, default target/graphql-http-audit). With no URL it serves the
# debug build on PORT (default 8098) over its own database, dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

GRAPHQL_HTTP_VERSION="${GRAPHQL_HTTP_VERSION:-1.23.1}"
GRAPHQL_VERSION="${GRAPHQL_VERSION:-16.15.0}"
AUDIT_CACHE="${AUDIT_CACHE:-$PWD/target/graphql-http-audit}"
PORT="${PORT:-8098}"
AUDIT_DATABASE_URL="${AUDIT_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/talentgraph}_http_audit}"

mkdir -p "$AUDIT_CACHE"
if [ ! -f "$AUDIT_CACHE/node_modules/graphql-http/package.json" ] \
  || ! grep -q "\"version\": \"$GRAPHQL_HTTP_VERSION\"" "$AUDIT_CACHE/node_modules/graphql-http/package.json"; then
  [ -f "$AUDIT_CACHE/package.json" ] || echo '{"private":true}' >"$AUDIT_CACHE/package.json"
  (cd "$AUDIT_CACHE" && npm install --silent --no-audit --no-fund \
    "graphql-http@$GRAPHQL_HTTP_VERSION" "graphql@$GRAPHQL_VERSION" >/dev/null)
fi

url="${1:-}"
if [ -z "$url" ]; then
  server_url="${AUDIT_DATABASE_URL%/*}/postgres"
  db_name="${AUDIT_DATABASE_URL##*/}"
  cargo build --quiet
  DATABASE_URL="$AUDIT_DATABASE_URL" TALENTGRAPH_LISTEN="127.0.0.1:$PORT" RUST_LOG=warn \
    target/debug/talentgraph serve &
  server=$!
  cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    psql "$server_url" -qc "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)"
  }
  trap cleanup EXIT
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  url="http://127.0.0.1:$PORT/graphql"
fi

cat >"$AUDIT_CACHE/audit.mjs" <<'JS'
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
const failures = [];
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  counts[result.status] = (counts[result.status] ?? 0) + 1;
  if (result.status !== 'ok') failures.push(`${result.status.toUpperCase()} ${audit.name}: ${result.reason}`);
}
for (const line of failures) console.log(line);
console.log(`graphql-http ${process.env.GRAPHQL_HTTP_VERSION} audit of ${url}: ${counts.ok} ok, ${counts.notice} notice, ${counts.warn} warn, ${counts.error} error`);
// `error` is a MUST-level failure; `warn` a SHOULD; `notice` a MAY.
process.exit(counts.error > 0 ? 1 : 0);
JS
GRAPHQL_HTTP_VERSION="$GRAPHQL_HTTP_VERSION" node "$AUDIT_CACHE/audit.mjs" "$url"
