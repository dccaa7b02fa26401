#!/usr/bin/env bash
# Stops a PostgreSQL started by pg_start.sh and removes its folder.
set -uo pipefail
dir=${1:?usage: pg_stop.sh DIR}
bin=/usr/lib/postgresql/15/bin
as_owner=()
[ "$(id -u)" -eq 0 ] && as_owner=(runuser -u nobody --)
[ -d "$dir/data" ] && "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
rm -rf "$dir"
