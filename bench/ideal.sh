#!/usr/bin/env bash
# The ceiling for each benchmark shape: one hand-written SQL statement that
# returns the same rows as the shape's GraphQL query (bench/ideal/<shape>.sql),
# driven by pgbench -M prepared on the database bench/compare.sh loaded.
# talentgraph's req/s divided by this is its share of the ceiling.
#
#   bench/ideal.sh                       # every shape, c=1 and c=32, 10 s each
#   SHAPES="a b" CONCURRENCY=32 bench/ideal.sh
#
# Knobs: BENCH_DATABASE_URL (compare.sh's), DURATION=10, CONCURRENCY="1 32", SHAPES (prefixes).
set -euo pipefail
cd "$(dirname "$0")"
url="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/talentgraph_compare}"
people=$(psql "$url" -XAtc "SELECT count(*) FROM people WHERE slug LIKE 'person-%'")
[ "$people" -gt 0 ] || { echo "ideal.sh: no synthetic people in $url (run bench/compare.sh first)" >&2; exit 1; }
echo "pgbench -M prepared on $url: $people synthetic people; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| shape | c | statements/s | p50 ms | p99 ms |"
echo "|---|---:|---:|---:|---:|"
for file in ideal/*.sql; do
  shape=$(basename "$file" .sql)
  if [ -n "${SHAPES:-}" ] && ! printf '%s\n' $SHAPES | grep -qx "${shape%%_*}"; then continue; fi
  # A sample run first: a statement that fails or returns nothing is not a ceiling.
  rows=$(psql "$url" -XAt -v people="$people" -v n=1 -f <(sed 's/^\\set n .*//' "$file") | wc -l)
  [ "$rows" -gt 0 ] || { echo "ideal.sh: $file returns no rows" >&2; exit 1; }
  for c in ${CONCURRENCY:-1 32}; do
    logdir=$(mktemp -d)
    (cd "$logdir" && pgbench -n -M prepared -D people="$people" -c "$c" -j "$(( c < 2 ? 1 : 2 ))" \
      -T "${DURATION:-10}" -l -f "$OLDPWD/$file" "$url" > summary.txt 2>&1) \
      || { cat "$logdir/summary.txt" >&2; exit 1; }
    tps=$(awk -F'= ' '/^tps/ {print int($2); exit}' "$logdir/summary.txt")
    read -r p50 p99 < <(cat "$logdir"/pgbench_log.* | awk '{print $3}' | sort -n \
      | awk '{v[NR]=$1} END {printf "%.2f %.2f\n", v[int(NR*0.5)]/1000, v[int(NR*0.99)]/1000}')
    echo "| $shape | $c | $tps | $p50 | $p99 |"
    rm -rf "$logdir"
  done
done
