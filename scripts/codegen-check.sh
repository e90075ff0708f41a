#!/usr/bin/env bash
# Proves the schema is one a code generator and a typed client can use:
#
# 1. generates TypeScript types from schema.graphql and scripts/codegen/operations.graphql
#    with graphql-codegen (`typescript` + `typescript-operations`; strictScalars: a scalar
#    without a type fails the generation) and fails if any scalar is typed `any`;
# 2. type-checks scripts/codegen/client.ts against them with `tsc --noEmit --strict`;
# 3. runs Apollo Client 3 (scripts/codegen/apollo-client.mjs) against a seeded service: the
#    article's five queries, and an automatic persisted query round trip over POST and GET.
#
#   scripts/codegen-check.sh                               # builds and serves its own instance
#   scripts/codegen-check.sh http://127.0.0.1:8080/graphql   # a running, seeded service
#
# Needs node and npm (registry access the first time; the packages are cached in
# $CODEGEN_CACHE, default target/codegen-check). With no URL it serves the debug build,
# seeded, on PORT (default 8097) over its own database, dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

CODEGEN_CACHE="${CODEGEN_CACHE:-$PWD/target/codegen-check}"
PORT="${PORT:-8097}"
CODEGEN_DATABASE_URL="${CODEGEN_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/talentgraph}_codegen_check}"
PACKAGES=(
  "@graphql-codegen/cli@7.4.3"
  "@graphql-codegen/typescript@6.1.0"
  "@graphql-codegen/typescript-operations@6.1.9"
  "typescript@7.0.2"
  "graphql@16.15.0"
  "@apollo/client@3.14.1"
)

mkdir -p "$CODEGEN_CACHE"
stamp="$CODEGEN_CACHE/installed"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${PACKAGES[*]}" ]; then
  [ -f "$CODEGEN_CACHE/package.json" ] || echo '{"private":true}' >"$CODEGEN_CACHE/package.json"
  (cd "$CODEGEN_CACHE" && npm install --silent --no-audit --no-fund "${PACKAGES[@]}" >/dev/null)
  echo "${PACKAGES[*]}" >"$stamp"
fi
bin="$CODEGEN_CACHE/node_modules/.bin"

out="$CODEGEN_CACHE/out"
rm -rf "$out" && mkdir -p "$out"
cp scripts/codegen/client.ts scripts/codegen/tsconfig.json "$out/"
(cd scripts/codegen && CODEGEN_OUT="$out" NODE_PATH="$CODEGEN_CACHE/node_modules" \
  "$bin/graphql-codegen" --config codegen.yml --silent)
# A scalar typed `any` is a hole in every type that uses it.
if grep -nE '^\s+[A-Za-z]+: \{ input: any; output: any; \}' "$out/schema.ts" "$out/graphql.ts"; then
  echo "a scalar is typed any: give it a description, @specifiedBy and a type in scripts/codegen/codegen.yml" >&2
  exit 1
fi
(cd "$out" && "$bin/tsc" -p tsconfig.json)
echo "codegen: TypeScript types for $(grep -c '^query ' scripts/codegen/operations.graphql) operations generated from schema.graphql; client.ts type-checks"

url="${1:-}"
if [ -z "$url" ]; then
  server_url="${CODEGEN_DATABASE_URL%/*}/postgres"
  db_name="${CODEGEN_DATABASE_URL##*/}"
  cargo build --quiet
  DATABASE_URL="$CODEGEN_DATABASE_URL" TALENTGRAPH_LISTEN="127.0.0.1:$PORT" RUST_LOG=warn \
    target/debug/talentgraph serve --seed &
  server=$!
  cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    psql "$server_url" -qc "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)"
  }
  trap cleanup EXIT
  for _ in $(seq 1 150); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  url="http://127.0.0.1:$PORT/graphql"
fi

cp scripts/codegen/apollo-client.mjs "$CODEGEN_CACHE/apollo-client.mjs"
node "$CODEGEN_CACHE/apollo-client.mjs" "$url"
