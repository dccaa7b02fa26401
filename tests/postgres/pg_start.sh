#!/usr/bin/env bash
# Starts a throw-away PostgreSQL 15 (Debian's binaries) in DIR on a free
# loopback port, as a non-root user (initdb refuses root: under root the
# cluster belongs to `nobody`). Prints the connection URL on stdout.
# Stop it with pg_stop.sh DIR.
set -euo pipefail
dir=${1:?usage: pg_start.sh DIR}
bin=/usr/lib/postgresql/15/bin
[ -x "$bin/initdb" ] || { echo "postgresql-15 is not installed" >&2; exit 77; }
mkdir -p "$dir"
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown nobody:nogroup "$dir"
  as_owner=(runuser -u nobody --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U gateway --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c fsync=on -c max_connections=200" \
  start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
"${as_owner[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U gateway gateway
echo "$port" > "$dir/port"
echo "postgresql://gateway@127.0.0.1:$port/gateway"
