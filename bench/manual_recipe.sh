#!/usr/bin/env bash
# The manual troubleshooting recipe people follow today, for every endpoint
# of a catalog in sequence: name lookup, TCP connect, TLS with openssl
# s_client -starttls postgres, then psql -c 'select 1'. The benchmark's
# baseline for `pgconn doctor`. Usage: manual_recipe.sh CATALOG (the lab's).
set -uo pipefail
catalog=$1
dir=$(dirname "$catalog")
ca=$dir/ca.crt
check() { # host port user cluster
  local host=$1 port=$2 user=$3 cluster=$4 pw
  getent hosts "$host" >/dev/null
  timeout 5 bash -c ": </dev/tcp/$host/$port" 2>/dev/null
  openssl s_client -starttls postgres -connect "$host:$port" -servername "$host" \
    -CAfile "$ca" -verify_return_error </dev/null >/dev/null 2>&1
  pw=$(cat "$dir/secrets/$cluster/$user")
  PGPASSWORD=$pw PGCONNECT_TIMEOUT=5 psql -Xqc 'select 1' \
    "host=$host port=$port user=$user dbname=${cluster%-db} sslmode=verify-full sslrootcert=$ca" >/dev/null 2>&1
}
d=lab.pgconn.test
check temporal-db-write.$d 5432 temporal temporal-db
check temporal-db-read.$d 5432 temporal temporal-db
check temporal-db-admin.$d 5432 platform_admin temporal-db
check platform-db-write.$d 5433 platform platform-db
check platform-db-admin.$d 5433 platform_admin platform-db
exit 0
