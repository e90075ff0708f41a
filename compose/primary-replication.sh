#!/bin/sh
# Run once by the postgres image on a new primary: let the replica connect
# for streaming replication with the same password.
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
