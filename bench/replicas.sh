#!/usr/bin/env bash
# Throughput of one talentgraph process on a primary against two processes
# sharing the load, one of them reading from a streaming replica; and the
# cost of TALENTGRAPH_DB_PREPARED_STATEMENTS=false, directly and through
# PgBouncer in transaction mode. Everything runs on this machine: a primary
# and a hot standby (pg_basebackup) of their own on spare ports, removed at
# the end.
#
#   bench/replicas.sh                      # release build, 10 s per run
#   PROFILE=debug DURATION=5 bench/replicas.sh
#
# Knobs: PROFILE=release DURATION=10 CONNECTIONS=16 PORT_BASE=55444
# Needs: PostgreSQL's programs, pgbouncer, wrk; runs them as `postgres` when root.
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE="${PROFILE:-release}"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-16}"
PORT_BASE="${PORT_BASE:-55444}"
primary_port=$PORT_BASE; standby_port=$((PORT_BASE + 1)); bouncer_port=$((PORT_BASE + 2))
http_a=$((PORT_BASE + 3)); http_b=$((PORT_BASE + 4))

if [ "$PROFILE" = release ]; then cargo build -q --release; else cargo build -q; fi
bin="target/$PROFILE/talentgraph"
pg="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
dir="$(mktemp -d /tmp/talentgraph-replicas-bench.XXXXXX)"
as_pg=()
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; as_pg=(runuser -u postgres --); fi
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$dir/bouncer.pid" ] && kill "$(cat "$dir/bouncer.pid")" 2>/dev/null || true
  for cluster in standby primary; do
    [ -d "$dir/$cluster" ] && "${as_pg[@]}" "$pg/pg_ctl" -D "$dir/$cluster" stop -m immediate >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT

"${as_pg[@]}" "$pg/initdb" -D "$dir/primary" -U postgres -A trust --no-sync >/dev/null
"${as_pg[@]}" "$pg/pg_ctl" -D "$dir/primary" -l "$dir/primary.log" -w \
  -o "-p $primary_port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null || { cat "$dir/primary.log" >&2; exit 1; }
primary="postgres://postgres@127.0.0.1:$primary_port/talentgraph"
DATABASE_URL="$primary" "$bin" seed 2>/dev/null
"${as_pg[@]}" "$pg/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir/standby" -R -X stream --no-sync
"${as_pg[@]}" "$pg/pg_ctl" -D "$dir/standby" -l "$dir/standby.log" -w \
  -o "-p $standby_port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
standby="postgres://postgres@127.0.0.1:$standby_port/talentgraph"

cat >"$dir/bouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$primary_port
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 20
logfile = $dir/bouncer.log
pidfile = $dir/bouncer.pid
INI
echo '"postgres" ""' >"$dir/users.txt"
[ "$(id -u)" = 0 ] && chown postgres "$dir/bouncer.ini" "$dir/users.txt"
"${as_pg[@]}" pgbouncer -d "$dir/bouncer.ini"

# The article's fifth claim: Meta's outbound talent flow, with people.
cat >"$dir/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"query":"{ organization(slug: \\"meta\\") { talentFlows(direction: OUTBOUND) { to { name } count people { name } } } }"}'
LUA

serve() { # port, then environment assignments
  local port=$1; shift
  env TALENTGRAPH_LISTEN="127.0.0.1:$port" TALENTGRAPH_HTTP_WORKERS=1 TALENTGRAPH_DB_POOL_SIZE=8 \
    TALENTGRAPH_RATE_LIMIT_CAPACITY=0 RUST_LOG=warn "$@" "$bin" serve 2>>"$dir/serve.log" &
  pids+=($!)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && return; sleep 0.1; done
  echo "talentgraph on $port never became ready" >&2; cat "$dir/serve.log" >&2; exit 1
}
stop_all() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; pids=(); }
rps() { # url connections -> requests/s
  wrk -t1 -c"$2" -d"${DURATION}s" -s "$dir/post.lua" "$1/graphql" | awk '/Requests\/sec/ {print $2}'
}

echo "| setup | requests/s |"
echo "|---|---:|"
serve "$http_a" DATABASE_URL="$primary"
echo "| one process, primary only, prepared statements | $(rps "http://127.0.0.1:$http_a" "$CONNECTIONS") |"
stop_all
serve "$http_a" DATABASE_URL="$primary"
serve "$http_b" DATABASE_URL="$primary" TALENTGRAPH_READ_DATABASE_URLS="$standby"
half=$((CONNECTIONS / 2))
rps "http://127.0.0.1:$http_a" "$half" >"$dir/a.rps" &
other=$!
rps "http://127.0.0.1:$http_b" "$half" >"$dir/b.rps"
wait "$other"
echo "| two processes: one on the primary, one reading from the replica (sum) | $(awk '{s+=$1} END {printf "%.2f", s}' "$dir/a.rps" "$dir/b.rps") |"
stop_all
serve "$http_a" DATABASE_URL="$primary" TALENTGRAPH_DB_PREPARED_STATEMENTS=false
echo "| one process, primary only, unnamed statements | $(rps "http://127.0.0.1:$http_a" "$CONNECTIONS") |"
stop_all
serve "$http_a" DATABASE_URL="postgres://postgres@127.0.0.1:$bouncer_port/talentgraph" TALENTGRAPH_DB_PREPARED_STATEMENTS=false
echo "| one process through PgBouncer (transaction mode), unnamed statements | $(rps "http://127.0.0.1:$http_a" "$CONNECTIONS") |"
stop_all
