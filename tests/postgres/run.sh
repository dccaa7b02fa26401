#!/usr/bin/env bash
# Runs a command against a throw-away PostgreSQL 15: starts one in a
# temporary folder (pg_start.sh), exports its URL as GATEWAY_TEST_PG_URL,
# runs the command, stops and removes the server whatever the command did.
#   bash tests/postgres/run.sh -- build/tests/unit_tests --gtest_filter='*postgres*'
# Exit 77 (skipped) when postgresql-15 is not installed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ "${1:-}" = "--" ] && shift
dir=$(mktemp -d /tmp/gw-pg.XXXXXX)
chmod 0755 "$dir"
trap 'bash "$here/pg_stop.sh" "$dir"' EXIT
url=$(bash "$here/pg_start.sh" "$dir/pg") || exit $?
export GATEWAY_TEST_PG_URL="$url"
"$@"
