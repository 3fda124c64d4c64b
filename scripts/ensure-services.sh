#!/usr/bin/env bash
# Starts the local PostgreSQL and MariaDB servers the integration tests use, if they are down.
# Commands from the machine's notes; each is a no-op when the server already answers.
set -u

wait_for() {  # wait_for NAME CHECK-COMMAND...
  local name=$1; shift
  for _ in $(seq 1 60); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "warning: $name did not come up; its tests will fail" >&2
  return 0
}

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p 5432
fi

if ! mariadb-admin -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  echo "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  wait_for MariaDB mariadb-admin -h 127.0.0.1 -u root ping
fi
