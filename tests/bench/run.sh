#!/usr/bin/env bash
# Three-way USSD benchmark on this machine, same load tool and connection
# count for all three:
#   1. ceiling: a minimal Beast server answering a constant "END ok";
#   2. the gateway on its default config (embedded SQLite, every case
#      fsynced before its END), with a fresh database: first over SMPP (the
#      operator's USSD gateway played by smpp-load, the same path and as
#      many dialogues as connections), then over HTTP, then over HTTP again
#      while an operator logs in once a second and the console polls the
#      queue twice a second;
#   3. peer: the same path with the npm package ussd-menu-builder on Express.
# Prints each run and the ratios gateway/ceiling and gateway/peer, and
# checks that every case acknowledged is in SQLite. Not a test: numbers
# depend on the machine. Results go to build-bench/results.txt.
#
#   bash tests/bench/run.sh [--seconds 20] [--connections 64] [--soak 600]
#
# --soak N: afterwards, N seconds at 50% of the gateway's peak rate,
# reporting RSS at start and end.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_RUN=20
CONNECTIONS=64
SOAK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    --soak) SOAK=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

BUILD=build-bench
cmake -S . -B $BUILD -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON >/dev/null
cmake --build $BUILD --target hotline-gateway ussd-load smpp-load ussd-ceiling micro-bench >/dev/null
LOAD="$BUILD/tests/bench/ussd-load --connections $CONNECTIONS --seconds $SECONDS_PER_RUN"
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
. tests/bench/lib.sh
OUT=$BUILD/results.txt
{
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -r)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo none)"
  echo "load: $CONNECTIONS connections, $SECONDS_PER_RUN s per run, Africa's Talking format (SMPP: deliver_sm/submit_sm), 8 hops to a case"
} | tee $OUT

# 1. Ceiling.
PORT=$(free_port)
$BUILD/tests/bench/ussd-ceiling --port "$PORT" > "$WORK/ceiling.log" 2>&1 & PIDS+=($!)
wait_port "$PORT"
CEILING=$($LOAD --port "$PORT" --any-end)
echo "ceiling: $CEILING" | tee -a $OUT
kill "${PIDS[-1]}"

# 2. Gateway, default config, fresh database; SMPP first, then HTTP.
PORT=$(free_port)
SMPP_PORT=$(free_port)
$BUILD/tests/bench/smpp-load --port "$SMPP_PORT" --dialogues "$CONNECTIONS" --seconds "$SECONDS_PER_RUN" \
  > "$WORK/smpp.out" 2> "$WORK/smpp.err" & SMPP_LOAD=$!; PIDS+=($SMPP_LOAD)
export GATEWAY_SMPP_PASSWORD=bench
bench_config "$PORT" "$WORK" | sed -e "s|^      port: 2775|      port: $SMPP_PORT|" > "$WORK/gateway.yaml"
export GATEWAY_USSD_TOKEN=bench-token   # the callback secret the aggregator would carry
GW_TARGET="/ussd/africastalking?token=$GATEWAY_USSD_TOKEN"
$BUILD/gateway/hotline-gateway serve --config "$WORK/gateway.yaml" > "$WORK/gateway.log" 2>&1 & GW=$!; PIDS+=($GW)
wait_port "$PORT"
wait $SMPP_LOAD || true
SMPP=$(cat "$WORK/smpp.out")
echo "gateway over SMPP: $SMPP" | tee -a $OUT
GATEWAY=$($LOAD --port "$PORT" --target "$GW_TARGET" --by-hop)
echo "gateway over HTTP: $GATEWAY" | tee -a $OUT
metric() { curl -s "http://127.0.0.1:$PORT/metrics" | sed -n "s/^$1 \([0-9.e+]*\)$/\1/p"; }
echo "store after both runs: writes $(metric gateway_store_writes_total), commits $(metric gateway_store_commits_total), fsyncs $(metric gateway_store_fsyncs_total)" | tee -a $OUT
echo "gateway threads (name: CPU seconds so far):" $(for t in /proc/$GW/task/*; do echo "$(cat $t/comm):$(awk '{printf "%.1f", ($14+$15)/100}' $t/stat)"; done | sort | awk -F: '{a[$1]+=$2; n[$1]++} END {for (k in a) printf "%s x%d: %.1f s; ", k, n[k], a[k]}') | tee -a $OUT

# 2b. The same load while an operator logs in once a second (Argon2id) and
# the console polls the queue twice a second.
GATEWAY_OPERATOR_PASSWORD="bench operator pass" $BUILD/gateway/hotline-gateway operator add \
  --config "$WORK/gateway.yaml" --username bench --role supervisor >/dev/null
console_client() {
  local logins=0
  while kill -0 "$1" 2>/dev/null; do
    TOKEN=$(curl -s -X POST -H 'Content-Type: application/json' \
      -d '{"username":"bench","password":"bench operator pass"}' \
      "http://127.0.0.1:$PORT/api/operator/v1/login" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    [ -n "$TOKEN" ] && logins=$((logins + 1))
    curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/operator/v1/queue"
    sleep 0.5
    curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/operator/v1/queue"
    sleep 0.5
  done
  echo "$logins"
}
$LOAD --port "$PORT" --target "$GW_TARGET" > "$WORK/console-run.out" & LOAD_PID=$!
console_client $LOAD_PID > "$WORK/logins.out" & CONSOLE=$!
wait $LOAD_PID; wait $CONSOLE || true
WITH_CONSOLE=$(cat "$WORK/console-run.out")
echo "gateway over HTTP with an operator logging in each second ($(cat "$WORK/logins.out") log-ins) and the queue polled: $WITH_CONSOLE" | tee -a $OUT
ACKED=$(( $(echo "$GATEWAY" | field cases) + $(echo "$SMPP" | field cases) + $(echo "$WITH_CONSOLE" | field cases) ))
STORED=$(sqlite3 "$WORK/gateway.db" "select count(*) from cases")
echo "gateway: cases acknowledged $ACKED (all three runs), cases in SQLite $STORED, lost $((ACKED - STORED > 0 ? ACKED - STORED : 0))" | tee -a $OUT

if [ "$SOAK" -gt 0 ]; then
  PEAK=$(echo "$GATEWAY" | field hops_per_s)
  HALF=$(python3 -c "print(int(float('$PEAK')/2))")
  RSS0=$(awk '/VmRSS/{print $2}' /proc/$GW/status)
  echo "soak: $SOAK s at $HALF hops/s (50% of peak), RSS at start ${RSS0} kB" | tee -a $OUT
  SOAKED=$($BUILD/tests/bench/ussd-load --port "$PORT" --target "$GW_TARGET" --connections "$CONNECTIONS" --seconds "$SOAK" --rate "$HALF")
  RSS1=$(awk '/VmRSS/{print $2}' /proc/$GW/status)
  echo "soak: $SOAKED" | tee -a $OUT
  echo "soak: RSS at end ${RSS1} kB" | tee -a $OUT
fi
kill -TERM $GW; wait $GW || true

# 3. Peer: ussd-menu-builder on Express (installed from npm).
if command -v npm >/dev/null; then
  cp tests/bench/peer/package.json tests/bench/peer/server.js "$WORK/"
  (cd "$WORK" && npm install --silent --no-audit --no-fund >/dev/null 2>&1)
  PORT=$(free_port)
  node "$WORK/server.js" "$PORT" > "$WORK/peer.log" 2>&1 & PIDS+=($!)
  wait_port "$PORT"
  PEER=$($LOAD --port "$PORT" --target /ussd)
  echo "peer: $PEER" | tee -a $OUT
else
  PEER=""
  echo "peer: skipped (npm not installed)" | tee -a $OUT
fi

python3 - "$CEILING" "$GATEWAY" "$PEER" "$SMPP" <<'PY' | tee -a $OUT
import re, sys
def hops(line):
    m = re.search(r"hops_per_s=([0-9.]+)", line)
    return float(m.group(1)) if m else None
c, g, p, s = (hops(x) for x in sys.argv[1:5])
print(f"ratio gateway/ceiling: {g/c:.2f} (target >= 0.5)")
if p:
    print(f"ratio gateway/peer: {g/p:.2f} (target >= 5)")
if s:
    print(f"ratio SMPP/HTTP (gateway): {s/g:.2f}")
PY
echo "micro-benchmarks:" | tee -a $OUT
$BUILD/tests/bench/micro-bench --benchmark_min_time=0.2 2>/dev/null | grep -E "^(engine|screen|seal|phone|group_commit)" | tee -a $OUT
