#!/usr/bin/env bash
# One node or two, SQLite or PostgreSQL, in one run of the same load tool:
#   1. one gateway on SQLite (the default store);
#   2. one gateway on PostgreSQL 15 (a throw-away server, tests/postgres/);
#   3. two gateways on that PostgreSQL behind HAProxy (balanced on
#      sessionId), and the same again with one node killed (kill -9)
#      half-way: the failed hops are the failover's cost.
# Each run: fresh data, 8 hops to a case, every case fsynced (SQLite) or
# committed (PostgreSQL) before its END. Not a test: results go to
# build-bench/nodes.txt.
#
#   bash tests/bench/nodes.sh [--seconds 10] [--connections 32]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=10
CONNECTIONS=32
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v haproxy >/dev/null || { echo "haproxy is not installed" >&2; exit 77; }
BUILD=build-bench
cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON >/dev/null
cmake --build $BUILD --target hotline-gateway ussd-load >/dev/null
LOAD="$BUILD/tests/bench/ussd-load --connections $CONNECTIONS --seconds $SECONDS_PER_RUN"
WORK=$(mktemp -d)
chmod 0755 "$WORK"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do kill -9 "$p" 2>/dev/null || true; done
  bash tests/postgres/pg_stop.sh "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
. tests/bench/lib.sh
OUT=$BUILD/nodes.txt
{
  echo "machine: $(nproc) cores, $(uname -r); date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)"
  echo "load: $CONNECTIONS connections, $SECONDS_PER_RUN s per run, 8 hops to a case"
} | tee $OUT

export GATEWAY_USSD_TOKEN=bench-token GATEWAY_DATA_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
GW_TARGET="/ussd/africastalking?token=$GATEWAY_USSD_TOKEN"
# The shipped config with this run's paths; $1 port, $2 extra store lines.
config() {
  bench_config "$1" "$WORK" | python3 -c '
import sys
text = sys.stdin.read()
extra = sys.argv[1]
if extra:
    extra = extra.rstrip("\n") + "\n"
    text = text.replace("store:\n", "store:\n" + extra, 1)
print(text, end="")' "$2"
}
serve() {  # $1 config, $2 log; prints the pid
  $BUILD/gateway/hotline-gateway serve --config "$1" > "$2" 2>&1 &
  echo $!
}
run_load() { $LOAD --port "$1" --target "$GW_TARGET" || true; }

# 1. SQLite, one node.
P1=$(free_port)
config "$P1" "" > "$WORK/sqlite.yaml"
GW=$(serve "$WORK/sqlite.yaml" "$WORK/sqlite.log"); PIDS+=($GW)
wait_port "$P1"
SQLITE=$(run_load "$P1")
echo "sqlite, one node: $SQLITE" | tee -a $OUT
kill -TERM "$GW"; wait "$GW" 2>/dev/null || true

# 2. PostgreSQL, one node.
GATEWAY_PG_URL=$(bash tests/postgres/pg_start.sh "$WORK/pg")
export GATEWAY_PG_URL
PG_STORE="  postgres:\n    url_env: GATEWAY_PG_URL\n    pool: 24\n"
P1=$(free_port); P2=$(free_port); PH=$(free_port)
config "$P1" "$(printf "$PG_STORE")" > "$WORK/pg1.yaml"
config "$P2" "$(printf "$PG_STORE")" > "$WORK/pg2.yaml"
GW1=$(serve "$WORK/pg1.yaml" "$WORK/pg1.log"); PIDS+=($GW1)
wait_port "$P1"
PG_ONE=$(run_load "$P1")
echo "postgresql, one node: $PG_ONE" | tee -a $OUT

# 3. Two nodes behind HAProxy, balanced on sessionId (a session's hops
#    stay on one node while both are up).
GW2=$(serve "$WORK/pg2.yaml" "$WORK/pg2.log"); PIDS+=($GW2)
wait_port "$P2"
cat > "$WORK/haproxy.cfg" <<CFG
global
  maxconn 4096
defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  retries 2
  option redispatch
frontend ussd
  bind 127.0.0.1:$PH
  default_backend gateways
backend gateways
  balance url_param sessionId check_post
  option httpchk GET /healthz
  default-server inter 500ms fall 2 rise 2
  server gw1 127.0.0.1:$P1 check
  server gw2 127.0.0.1:$P2 check
CFG
haproxy -f "$WORK/haproxy.cfg" -db > "$WORK/haproxy.log" 2>&1 & PIDS+=($!)
wait_port "$PH"; sleep 1.2   # both nodes checked up
PG_TWO=$(run_load "$PH")
echo "postgresql, two nodes behind haproxy: $PG_TWO" | tee -a $OUT
# The same, node 1 killed half-way.
run_load "$PH" > "$WORK/failover.out" & LOADER=$!
sleep "$(python3 -c "print($SECONDS_PER_RUN/2)")"
kill -9 "$GW1"
wait $LOADER || true
FAILOVER=$(cat "$WORK/failover.out")
echo "postgresql, two nodes, node 1 killed half-way: $FAILOVER" | tee -a $OUT
ACKED=$(( $(echo "$PG_ONE" | field cases) + $(echo "$PG_TWO" | field cases) + $(echo "$FAILOVER" | field cases) ))
STORED=$(/usr/lib/postgresql/15/bin/psql -Atq "$GATEWAY_PG_URL" -c "select count(*) from cases")
echo "postgresql: cases acknowledged $ACKED, cases in the database $STORED, lost $((ACKED - STORED > 0 ? ACKED - STORED : 0))" | tee -a $OUT
python3 - "$SQLITE" "$PG_ONE" "$PG_TWO" "$FAILOVER" <<'PY' | tee -a $OUT
import re, sys
def f(line, key):
    m = re.search(key + r"=([0-9.]+)", line)
    return float(m.group(1)) if m else 0.0
s, one, two, fo = sys.argv[1:5]
print(f"ratio postgresql/sqlite (one node): {f(one,'hops_per_s')/f(s,'hops_per_s'):.2f}")
print(f"ratio two nodes/one node (postgresql): {f(two,'hops_per_s')/f(one,'hops_per_s'):.2f}")
rate = f(fo, 'hops_per_s')
errors = f(fo, 'errors')
gap = errors / rate * 1000 if rate else 0
print(f"failover: {int(errors)} hops failed when node 1 was killed (about {gap:.0f} ms of traffic at {rate:.0f} hops/s)")
PY
