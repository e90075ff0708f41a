#!/usr/bin/env bash
# The explore pages in headless Chromium (scripts/explore-check.mjs): each page
# renders the article's names and numbers, makes no request off the machine,
# works from the keyboard and on a phone; screenshots go to target/.
#
#   scripts/explore-check.sh                          # builds and serves its own seeded instance
#   scripts/explore-check.sh http://127.0.0.1:8080    # a running, seeded service
#
# Needs node and npm (registry access the first time; playwright-core is cached
# in $EXPLORE_CACHE, default target/explore-check) and /usr/bin/chromium
# (installed with apt-get when missing). Screenshots: $SHOTS, default
# target/explore-screenshots. With no URL it serves the debug build on PORT
# (default 8099) over its own database, dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

PLAYWRIGHT_VERSION="${PLAYWRIGHT_VERSION:-1.65.2}"
EXPLORE_CACHE="${EXPLORE_CACHE:-$PWD/target/explore-check}"
SHOTS="${SHOTS:-$PWD/target/explore-screenshots}"
PORT="${PORT:-8099}"
EXPLORE_DATABASE_URL="${EXPLORE_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/talentgraph}_explore_check}"

if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

mkdir -p "$EXPLORE_CACHE"
if [ ! -f "$EXPLORE_CACHE/node_modules/playwright-core/package.json" ] \
  || ! grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$EXPLORE_CACHE/node_modules/playwright-core/package.json"; then
  [ -f "$EXPLORE_CACHE/package.json" ] || echo '{"private":true}' >"$EXPLORE_CACHE/package.json"
  # playwright-core has no browser download step: it drives the system's Chromium.
  (cd "$EXPLORE_CACHE" && npm install --silent --no-audit --no-fund "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null)
fi

base="${1:-}"
if [ -z "$base" ]; then
  server_url="${EXPLORE_DATABASE_URL%/*}/postgres"
  db_name="${EXPLORE_DATABASE_URL##*/}"
  cargo build --quiet
  PGOPTIONS=--client-min-messages=warning psql "$server_url" -qc "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)"
  DATABASE_URL="$EXPLORE_DATABASE_URL" TALENTGRAPH_LISTEN="127.0.0.1:$PORT" RUST_LOG=warn \
    target/debug/talentgraph serve --seed &
  server=$!
  cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    PGOPTIONS=--client-min-messages=warning psql "$server_url" -qc "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)"
  }
  trap cleanup EXIT
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  base="http://127.0.0.1:$PORT"
fi

EXPLORE_CACHE="$EXPLORE_CACHE" node scripts/explore-check.mjs "$base" "$SHOTS"
