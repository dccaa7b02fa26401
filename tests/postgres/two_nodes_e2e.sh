#!/usr/bin/env bash
# Two gateway nodes on one PostgreSQL behind HAProxy, end to end (issue #14):
# USSD sessions whose hops alternate nodes, Kannel SMS callbacks, and gwA
# killed with SIGKILL in the middle; sessions go on on gwB, every
# acknowledged case is in PostgreSQL, every queued SMS reaches Kannel exactly
# once, the referral sweep (run by both nodes) handles each referral once,
# and gwA serves again after a restart. The driver, fake Kannel and checks
# are in two_nodes_e2e.py (what it checks: its docstring).
#
# Usage: tests/postgres/two_nodes_e2e.sh [gateway binary]
#        (default /work/main/build/gateway/hotline-gateway)
# Environment: TWO_NODES_SESSIONS (30), TWO_NODES_SMS (10), TWO_NODES_SEED,
#              TWO_NODES_KEEP=1 keeps the folder (logs, configs) for a look.
# Exit: 0 passed, 1 failed, 77 skipped (haproxy, postgresql-15 or python3
# missing). Everything listens on 127.0.0.1, on free ports, and is stopped
# on exit.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-/work/main/build/gateway/hotline-gateway}
pgbin=/usr/lib/postgresql/15/bin

command -v haproxy >/dev/null 2>&1 || { echo "skip: haproxy is not installed (apt-get install haproxy)"; exit 77; }
[ -x "$pgbin/initdb" ] && [ -x "$pgbin/psql" ] || { echo "skip: postgresql-15 is not installed"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 is not installed"; exit 77; }
[ -x "$bin" ] || { echo "FAIL: no gateway binary at $bin"; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

T=$(mktemp -d /tmp/gw-2nodes.XXXXXX)
chmod 0755 "$T"  # pg_start.sh runs PostgreSQL as nobody under root
driver_pid=""
haproxy_pid=""
cleanup() {
    local rc=$?
    [ -n "$driver_pid" ] && kill "$driver_pid" 2>/dev/null
    for f in "$T/gwA.pid" "$T/gwB.pid"; do
        [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
    done
    [ -n "$haproxy_pid" ] && kill "$haproxy_pid" 2>/dev/null
    wait 2>/dev/null
    bash "$here/pg_stop.sh" "$T/pg" >/dev/null 2>&1
    if [ "${TWO_NODES_KEEP:-0}" = 1 ]; then
        echo "kept: $T"
    else
        rm -rf "$T"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Shows the end of a log when something fails to start.
tail_of() { echo "--- $1 (last lines)"; tail -n "${2:-20}" "$1" | sed 's/^/    /'; }

# --- PostgreSQL ----------------------------------------------------------
url=$(bash "$here/pg_start.sh" "$T/pg") || { rc=$?; [ "$rc" = 77 ] && exit 77; echo "FAIL: PostgreSQL did not start"; exit 1; }

# --- secrets, as a service would get them: from the environment -----------
export GATEWAY_PG_URL="$url"
GATEWAY_DATA_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
GATEWAY_USSD_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')
GATEWAY_KANNEL_TOKEN=$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')
KANNEL_SENDSMS_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(12))')
export GATEWAY_DATA_KEY GATEWAY_USSD_TOKEN GATEWAY_KANNEL_TOKEN KANNEL_SENDSMS_PASSWORD
export GATEWAY_KANNEL_SENDER=1414

read -r PA PB HP KP < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')

# --- one config for both nodes (only server.port differs) -------------------
# Partners as config/partners.yaml has them (the ids the shipped rules
# route to), always open, each with a focal phone (an SMS per new referral
# through the outbox); the legal-aid partners' SLA is 0 hours, so each of
# their referrals is overdue at the next sweep and both nodes' sweeps meet it.
cat >"$T/partners.yaml" <<'EOF'
partners:
  - {id: legal_aid_batken, name: "Legal aid Batken", names: {ky: "Legal aid Batken", ru: "Legal aid Batken"}, oblasts: [batken], topics: [legal_aid, rights, children], languages: [ky, ru], acknowledge_within_hours: 0, focal_phone: "+996700100001", focal_language: ru}
  - {id: legal_aid_jalal_abad, name: "Legal aid Jalal-Abad", names: {ky: "Legal aid Jalal-Abad", ru: "Legal aid Jalal-Abad"}, oblasts: [jalal_abad], topics: [legal_aid, rights, children], languages: [ky, ru], acknowledge_within_hours: 0, focal_phone: "+996700100002", focal_language: ky}
  - {id: legal_aid_osh, name: "Legal aid Osh", names: {ky: "Legal aid Osh", ru: "Legal aid Osh"}, oblasts: [osh], topics: [legal_aid, rights, children], languages: [ky, ru], acknowledge_within_hours: 0, focal_phone: "+996700100003", focal_language: ru}
  - {id: legal_aid_talas, name: "Legal aid Talas", names: {ky: "Legal aid Talas", ru: "Legal aid Talas"}, oblasts: [talas], topics: [legal_aid, rights, children], languages: [ky, ru], acknowledge_within_hours: 0, focal_phone: "+996700100004", focal_language: ky}
  - {id: employment_service, name: "Employment services", names: {ky: "Employment services", ru: "Employment services"}, oblasts: [batken, jalal_abad, osh, talas], topics: [employment, returnees], languages: [ky, ru], focal_phone: "+996700100005"}
  - {id: migration_service, name: "Migration offices", names: {ky: "Migration offices", ru: "Migration offices"}, oblasts: [batken, jalal_abad, osh, talas], topics: [migration], languages: [ky, ru], focal_phone: "+996700100006"}
  - {id: iom_migrant_support, name: "IOM migrant support", names: {ky: "IOM migrant support", ru: "IOM migrant support"}, oblasts: [batken, jalal_abad, osh, talas], topics: [migration, employment, returnees], languages: [ky, ru], focal_phone: "+996700100007"}
  - {id: crisis_centres, name: "Crisis centres", names: {ky: "Crisis centres", ru: "Crisis centres"}, oblasts: [batken, jalal_abad, osh, talas], topics: [urgent, family, trafficking], languages: [ky, ru], acknowledge_within_hours: 0, focal_phone: "+996700100008"}
EOF
# Relative paths resolve against this file's folder (partners.yaml above);
# the shipped menus, rules and console by absolute path.
cat >"$T/gateway.yaml" <<EOF
server:
  address: 127.0.0.1
  port: 0
  trusted_proxies: [127.0.0.1]     # HAProxy on this host
  max_connections_per_address: 0   # every connection comes from HAProxy
store:
  postgres:
    url_env: GATEWAY_PG_URL
    pool: 16
    claim_timeout_s: 4             # outbox rows a dead node claimed go back after this
menus:
  directory: $root/menus
ussd:
  token_env: GATEWAY_USSD_TOKEN
sms:
  base_delay_ms: 200
  max_delay_ms: 1000
  poll_interval_ms: 100
  max_attempts: 100
  channels:
    kannel:
      auth: token
      token_env: GATEWAY_KANNEL_TOKEN
      send_url: http://127.0.0.1:$KP/cgi-bin/sendsms
      send_username: hotline
      send_password_env: KANNEL_SENDSMS_PASSWORD
      sender_env: GATEWAY_KANNEL_SENDER
      report_url: http://127.0.0.1:$HP/sms/kannel/dlr   # through HAProxy, to either node
referrals:
  partners_file: partners.yaml
  rules_directory: $root/referral-rules
  notify_channel: kannel
  sweep_interval_ms: 300
privacy:
  data_key_env: GATEWAY_DATA_KEY
console:
  directory: $root/gateway/console
  reply_templates: $root/config/reply-templates.yaml
EOF
# store.postgres.claim_timeout_s is newer than some gateways: without it,
# nothing takes back what a dead node had claimed (the driver says so).
if "$bin" check --config "$T/gateway.yaml" 2>&1 | grep -q 'unknown key store.postgres.claim_timeout_s'; then
    sed -i '/claim_timeout_s:/d' "$T/gateway.yaml"
    echo "note: this gateway has no store.postgres.claim_timeout_s"
fi
sed "s/^  port: 0\$/  port: $PA/" "$T/gateway.yaml" >"$T/gateway-a.yaml"
sed "s/^  port: 0\$/  port: $PB/" "$T/gateway.yaml" >"$T/gateway-b.yaml"
if ! "$bin" check --config "$T/gateway-a.yaml" >"$T/check.out" 2>&1; then
    echo "FAIL: hotline-gateway check refuses the test config"; tail_of "$T/check.out"; exit 1
fi

# --- two nodes -------------------------------------------------------------
start_node() {  # name config
    local name=$1 config=$2
    "$bin" serve --config "$config" >>"$T/$name.log" 2>&1 &
    echo $! >"$T/$name.pid"
    disown $!  # killed by pid (the driver kills and restarts gwA)
}
start_node gwA "$T/gateway-a.yaml"
start_node gwB "$T/gateway-b.yaml"
for name in gwA gwB; do
    for _ in $(seq 200); do
        grep -q 'hotline gateway listening on' "$T/$name.log" 2>/dev/null && break
        kill -0 "$(cat "$T/$name.pid")" 2>/dev/null || break
        sleep 0.1
    done
    grep -q 'hotline gateway listening on' "$T/$name.log" 2>/dev/null ||
        { echo "FAIL: $name did not start"; tail_of "$T/$name.log"; exit 1; }
done

# --- HAProxy: round robin (no stickiness), health checks on /healthz ---------
cat >"$T/haproxy.cfg" <<EOF
global
    log stdout format raw local0
    stats socket $T/haproxy.sock mode 600 level admin
    maxconn 1000
defaults
    mode http
    log global
    # Path only: callback URLs carry tokens and phone numbers (deploy/haproxy).
    log-format "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %HM %HPO"
    option dontlognull
    option redispatch 1          # a retry goes to the other node
    retries 2
    timeout connect 300ms        # also the pause before a retry
    timeout client 30s
    timeout server 15s
    timeout http-request 10s
    timeout check 1s
frontend callbacks
    bind 127.0.0.1:$HP
    http-response set-header X-Served-By %s
    use_backend ussd if { path_beg /ussd/ }
    default_backend gateway
backend ussd
    balance roundrobin           # consecutive hops of one session alternate nodes
    option http-buffer-request
    option forwardfor
    option httpchk GET /healthz
    http-check expect rstring ^(ok|degraded:\ smpp-)
    default-server check inter 200ms fall 2 rise 2 maxconn 60
    server gwA 127.0.0.1:$PA
    server gwB 127.0.0.1:$PB
backend gateway
    balance roundrobin
    option forwardfor
    option httpchk GET /healthz
    http-check expect rstring ^(ok|degraded:\ smpp-)
    default-server check inter 200ms fall 2 rise 2 maxconn 60
    server gwA 127.0.0.1:$PA
    server gwB 127.0.0.1:$PB
EOF
haproxy -c -q -f "$T/haproxy.cfg" >"$T/haproxy-check.out" 2>&1 ||
    { echo "FAIL: haproxy -c"; tail_of "$T/haproxy-check.out"; exit 1; }
haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 &
haproxy_pid=$!
up=0
for _ in $(seq 100); do
    up=$(python3 - "$T/haproxy.sock" <<'EOF' 2>/dev/null || echo 0
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"show stat\n")
d = b""
while True:
    x = s.recv(65536)
    if not x: break
    d += x
print(sum(1 for l in d.decode().splitlines()
          if l.split(",")[0] in ("ussd", "gateway") and len(l.split(",")) > 17
          and l.split(",")[1] in ("gwA", "gwB") and l.split(",")[17].startswith("UP")))
EOF
)
    [ "$up" = 4 ] && break
    sleep 0.1
done
[ "$up" = 4 ] || { echo "FAIL: HAProxy does not see both nodes UP"; tail_of "$T/haproxy.log"; exit 1; }

# --- traffic, kill -9, restart, checks --------------------------------------
python3 "$here/two_nodes_e2e.py" --binary "$bin" --dir "$T" --haproxy-port "$HP" \
    --kannel-port "$KP" --port-a "$PA" --port-b "$PB" \
    --sessions "${TWO_NODES_SESSIONS:-30}" --sms "${TWO_NODES_SMS:-10}" \
    ${TWO_NODES_SEED:+--seed "$TWO_NODES_SEED"} &
driver_pid=$!
wait "$driver_pid"
rc=$?
driver_pid=""
if [ "$rc" -ne 0 ]; then
    for name in gwA gwB; do
        echo "--- $name.log: errors and warnings"
        grep -E '\[(error|critical|warning)\]' "$T/$name.log" | grep -v 'report_url uses port' |
            tail -n 15 | sed 's/^/    /'
    done
    tail_of "$T/haproxy.log" 10
    exit 1
fi
exit 0
