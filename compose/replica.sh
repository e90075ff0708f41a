#!/bin/sh
# The replica's entry point: copy the primary once (pg_basebackup -R writes
# the standby settings), then run as a hot standby, streaming from it.
set -e
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h primary -U postgres -q; do sleep 1; done
  mkdir -p "$PGDATA" && chown postgres "$PGDATA" && chmod 700 "$PGDATA"
  su-exec postgres pg_basebackup -h primary -U postgres -D "$PGDATA" -R -X stream
fi
exec su-exec postgres postgres -c hot_standby=on
