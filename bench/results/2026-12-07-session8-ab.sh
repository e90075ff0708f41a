#!/bin/bash
# A/B/C: builds side by side, interleaved, same shapes, on the 100,000-person
# compare database (bench/compare.sh). Usage:
#   SHAPES="c e" bench/results/2026-12-07-session8-ab.sh name=binary [name=binary ...]
cd "$(dirname "$0")/../.."
pids=(); ports=(); names=(); port=8301
for arg in "$@"; do
  name=${arg%%=*}; bin=${arg#*=}
  env DATABASE_URL=postgres://postgres@127.0.0.1:5432/talentgraph_compare TALENTGRAPH_LISTEN=127.0.0.1:$port \
    RUST_LOG=warn TALENTGRAPH_RATE_LIMIT_CAPACITY=0 "$bin" serve > /tmp/ab-$port.log 2>&1 &
  pids+=($!); ports+=($port); names+=("$name"); port=$((port + 1))
done
sleep 4
for shape in ${SHAPES:-c e}; do
  f=$(ls bench/queries/talentgraph/${shape}_*.graphql)
  python3 - "$f" > /tmp/prefix.json <<'PY'
import json,sys
doc=open(sys.argv[1]).read()
sys.stdout.write(json.dumps({"query":doc})[:-1]+',"variables":')
PY
  vars=$(grep -o 'bench-vars: .*' $f | sed 's/bench-vars: //'); [ -z "$vars" ] && vars='{}'
  for c in ${CONCURRENCY:-1 32}; do
    for rep in 1 2 3; do
      for i in "${!ports[@]}"; do
        p=${ports[$i]}
        BENCH_BODY_PREFIX=/tmp/prefix.json BENCH_VARS="$vars" BENCH_RESULT=/tmp/kv wrk -t1 -c$c -d2s -s bench/wrk-graphql.lua http://127.0.0.1:$p/graphql >/dev/null
        BENCH_BODY_PREFIX=/tmp/prefix.json BENCH_VARS="$vars" BENCH_RESULT=/tmp/kv wrk -t1 -c$c -d${DURATION:-8}s -s bench/wrk-graphql.lua http://127.0.0.1:$p/graphql >/dev/null
        echo "$shape c=$c ${names[$i]} $(grep -o 'rps=[0-9.]*' /tmp/kv) $(grep -o 'p99_us=[0-9]*' /tmp/kv) $(grep -o 'gql_errors=[0-9]*' /tmp/kv) $(grep -o 'bad_status=[0-9]*' /tmp/kv)"
      done
    done
  done
done
kill "${pids[@]}"
