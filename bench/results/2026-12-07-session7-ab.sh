#!/bin/bash
# A/B: base vs new binary, interleaved, same shapes.
cd /work/main
start() { env DATABASE_URL=postgres://postgres@127.0.0.1:5432/talentgraph_compare TALENTGRAPH_LISTEN=127.0.0.1:$2 RUST_LOG=warn TALENTGRAPH_RATE_LIMIT_CAPACITY=0 $1 serve > /tmp/ab-$2.log 2>&1 & echo $!; }
A=$(start /work/bin-base 8301); B=$(start /work/bin-new 8302); sleep 4
for shape in ${SHAPES:-b n}; do
  f=$(ls bench/queries/talentgraph/${shape}_*.graphql)
  python3 - "$f" > /tmp/prefix.json <<'PY'
import json,sys
doc=open(sys.argv[1]).read()
sys.stdout.write(json.dumps({"query":doc})[:-1]+',"variables":')
PY
  vars=$(grep -o 'bench-vars: .*' $f | sed 's/bench-vars: //'); [ -z "$vars" ] && vars='{}'
  for c in 1 32; do
    for rep in 1 2 3; do
      for side in base:8301 new:8302; do
        port=${side#*:}
        BENCH_BODY_PREFIX=/tmp/prefix.json BENCH_VARS="$vars" BENCH_RESULT=/tmp/kv wrk -t1 -c$c -d2s -s bench/wrk-graphql.lua http://127.0.0.1:$port/graphql >/dev/null
        BENCH_BODY_PREFIX=/tmp/prefix.json BENCH_VARS="$vars" BENCH_RESULT=/tmp/kv wrk -t1 -c$c -d8s -s bench/wrk-graphql.lua http://127.0.0.1:$port/graphql >/dev/null
        echo "$shape c=$c ${side%%:*} $(grep -o 'rps=[0-9.]*' /tmp/kv) $(grep -o 'p99_us=[0-9]*' /tmp/kv) $(grep -o 'gql_errors=[0-9]*' /tmp/kv) $(grep -o 'bad_status=[0-9]*' /tmp/kv)"
      done
    done
  done
done
kill $A $B
