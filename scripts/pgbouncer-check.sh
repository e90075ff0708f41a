#!/usr/bin/env bash
# Runs the API test suite through PgBouncer (Debian's, 1.18 on Debian 12) in
# pool_mode = transaction, in front of the PostgreSQL on 127.0.0.1:5432, with
# TALENTGRAPH_DB_PREPARED_STATEMENTS=false (1.18 has no max_prepared_statements).
# Starts PgBouncer in a temporary directory as the postgres user, stops it and
# removes the directory on exit. Extra arguments go to the test binary.
#
# Five tests are skipped here, each because it checks what a pooler changes by
# design (all five pass in the direct run of the suite):
# - seed::the_binary_seeds_and_migrates_a_database_it_creates: PgBouncer
#   answers a login to a missing database with SQLSTATE 08P01, not 3D000, so
#   the service cannot tell "create it" from a broken pooler; behind a pooler
#   the database must exist (README).
# - translated_errors::a_refused_delete_and_a_statement_timeout_keep_their_codes_in_another_language:
#   it sets lc_messages and statement_timeout on the service's connections,
#   session settings that transaction pooling does not keep (set them on the
#   role behind a pooler, as docs/scaling.md says).
# - timeouts::a_*_and_its_connection_is_reused / _the_pool_serves_the_next:
#   they find the pool's one PostgreSQL backend in pg_stat_activity and check
#   it is the same afterwards; behind PgBouncer the service has no backend of
#   its own.
# Subscriptions are tested through the pooler too: their LISTEN connection
# goes to PostgreSQL itself (TALENTGRAPH_LISTEN_DATABASE_URL, which the tests
# set from TALENTGRAPH_TEST_LISTEN_SERVER_URL), as a deployment behind a
# transaction-mode pooler must: LISTEN is a session feature.
set -euo pipefail
cd "$(dirname "$0")/.."

port="${PGBOUNCER_PORT:-55441}"
command -v pgbouncer >/dev/null || PATH="$PATH:/usr/sbin"
dir="$(mktemp -d /tmp/talentgraph-pgbouncer.XXXXXX)"
cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=5432
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
echo '"postgres" ""' >"$dir/userlist.txt"

as_postgres=()
if [ "$(id -u)" = 0 ]; then
  chown -R postgres "$dir"
  as_postgres=(runuser -u postgres --)
fi
stop() {
  if [ -f "$dir/pgbouncer.pid" ]; then kill "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true; fi
  sleep 0.5
  rm -rf "$dir"
}
trap stop EXIT
"${as_postgres[@]}" pgbouncer -d "$dir/pgbouncer.ini"
for _ in $(seq 1 50); do
  pg_isready -h 127.0.0.1 -p "$port" -q && break
  sleep 0.1
done
pgbouncer --version | head -n 1

DATABASE_URL="postgres://postgres@127.0.0.1:$port/talentgraph" \
TALENTGRAPH_DB_PREPARED_STATEMENTS=false \
TALENTGRAPH_TEST_LISTEN_SERVER_URL="postgres://postgres@127.0.0.1:5432/postgres" \
  cargo test --locked --test api -- \
    --skip translated_errors::a_refused_delete_and_a_statement_timeout_keep_their_codes_in_another_language \
    --skip seed::the_binary_seeds_and_migrates_a_database_it_creates \
    --skip timeouts::a_lock_wait_past_lock_timeout_fails_with_timeout_and_its_connection_is_reused \
    --skip timeouts::a_statement_past_statement_timeout_fails_with_timeout_and_its_connection_is_reused \
    --skip timeouts::a_request_past_the_request_timeout_fails_with_timeout_and_the_pool_serves_the_next \
    "$@"
if grep -q FATAL "$dir/pgbouncer.log"; then
  echo "PgBouncer logged a FATAL error:" >&2
  grep FATAL "$dir/pgbouncer.log" >&2
  exit 1
fi
