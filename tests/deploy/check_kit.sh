#!/usr/bin/env bash
# Checks the deployment kit in deploy/ without root and without the gateway
# binary:
#   1. secrets.env.example names every `*_env` variable of config/gateway.yaml,
#      each with an empty value and a comment line.
#   2. the systemd unit: the hardening it promises is there, its command
#      line matches the gateway's (serve --config, SIGHUP reload), and
#      `systemd-analyze verify` finds nothing wrong with it, with the
#      secrets file and with the commented LoadCredential drop-in; the
#      drop-in's shell wrapper exports credentials as variables.
#   3. haproxy.cfg: `haproxy -c` with a throw-away certificate, then a live
#      run on free local ports against two stand-in gateways (python3):
#      routing, USSD stickiness by sessionId, X-Forwarded-For, the internal
#      ACLs, the HTTPS redirect, query strings kept out of the log, and which
#      /healthz answers take a node out.
# Usage: tests/deploy/check_kit.sh [repo root]   (default: this script's ../..)
# Exit: 0 passed, 1 failed, 77 skipped (haproxy or systemd-analyze missing).
set -euo pipefail

ROOT=$(cd "${1:-$(dirname "$0")/../..}" && pwd)
UNIT="$ROOT/deploy/systemd/hotline-gateway.service"
SECRETS="$ROOT/deploy/systemd/secrets.env.example"
HACFG="$ROOT/deploy/haproxy/haproxy.cfg"
CONFIG="$ROOT/config/gateway.yaml"

failures=0
skipped=0
pass() { printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; failures=$((failures + 1)); }
skip() { printf 'skip  %s\n' "$*"; skipped=$((skipped + 1)); }

TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

for f in "$UNIT" "$SECRETS" "$HACFG" "$CONFIG" "$ROOT/deploy/README.md"; do
    [ -f "$f" ] || { echo "FAIL  missing $f"; exit 1; }
done

# --- 1. secrets.env.example ---------------------------------------------
# Variables named by `<key>_env: NAME` outside comments.
mapfile -t wanted < <(grep -E '^[[:space:]]*[a-z_]+_env:[[:space:]]*[A-Z][A-Z0-9_]*' "$CONFIG" |
    sed -E 's/^[[:space:]]*[a-z_]+_env:[[:space:]]*([A-Z][A-Z0-9_]*).*/\1/' | sort -u)
if [ "${#wanted[@]}" -eq 0 ]; then
    fail "secrets: no *_env variables found in $CONFIG"
fi
for v in "${wanted[@]}"; do
    if ! grep -qE "^$v=" "$SECRETS"; then
        fail "secrets: $v (named in config/gateway.yaml) missing from secrets.env.example"
    fi
done
bad_values=$(grep -vE '^[[:space:]]*(#|$)' "$SECRETS" | grep -vE '^[A-Z][A-Z0-9_]*=$' || true)
if [ -n "$bad_values" ]; then
    fail "secrets: lines that are not an empty KEY=: $bad_values"
fi
uncommented=$(awk '/^[A-Z][A-Z0-9_]*=/ { if (prev !~ /^#/) print $0 } { prev = $0 }' "$SECRETS")
if [ -n "$uncommented" ]; then
    fail "secrets: variables without a comment line above: $uncommented"
fi
[ "$failures" -eq 0 ] && pass "secrets.env.example: ${#wanted[@]} variables, all empty, all commented"

# --- 2. systemd unit ----------------------------------------------------
f0=$failures
for d in 'Type=exec' 'DynamicUser=yes' 'StateDirectory=hotline-gateway' 'ProtectSystem=strict' \
    'ProtectHome=yes' 'PrivateTmp=yes' 'NoNewPrivileges=yes' 'ProtectKernelTunables=yes' \
    'ProtectKernelModules=yes' 'ProtectKernelLogs=yes' \
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' 'SystemCallFilter=@system-service' \
    'CapabilityBoundingSet=' 'UMask=0077' 'Restart=on-failure' \
    'ExecReload=/bin/kill -HUP $MAINPID' 'EnvironmentFile=/etc/hotline-gateway/secrets.env'; do
    grep -qxF "$d" "$UNIT" || fail "unit: '$d' missing"
done
grep -qE '^LimitNOFILE=[0-9]+$' "$UNIT" || fail "unit: LimitNOFILE= missing"
grep -qE '^TimeoutStopSec=[0-9]+s?$' "$UNIT" || fail "unit: TimeoutStopSec= missing"
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
[[ "$exec_start" == *" serve --config /"* ]] || fail "unit: ExecStart is not 'serve --config <absolute path>'"
# The command line and the reload signal the gateway really has.
grep -q 'add_subcommand("serve"' "$ROOT/gateway/main.cpp" || fail "gateway: no serve subcommand"
grep -q 'serve->add_option("-c,--config"' "$ROOT/gateway/main.cpp" || fail "gateway: serve has no --config"
grep -q 'reload_on_sighup' "$ROOT/gateway/app/serve.cpp" || fail "gateway: serve does not reload on SIGHUP"
[ "$failures" -eq "$f0" ] && pass "unit: hardening, command line and reload signal"

# Runs systemd-analyze verify on a unit folder; any message naming our unit
# (or its drop-in) fails; other messages (containers without a running
# systemd complain about unrelated units) are shown and ignored.
verify_unit() {  # label dir
    local label=$1 dir=$2 out rc=0
    out=$(cd "$dir" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
        "$dir/hotline-gateway.service" 2>&1) || rc=$?
    local ours
    ours=$(printf '%s\n' "$out" | grep -E 'hotline-gateway' || true)
    if [ -n "$ours" ]; then
        fail "systemd-analyze verify ($label):"
        printf '      %s\n' "$ours"
    else
        [ -n "$out" ] && printf '      (ignored, not about our unit: %s)\n' "$(printf '%s\n' "$out" | sed -n 1,3p | tr '\n' ' ')"
        if [ "$rc" -ne 0 ]; then
            pass "systemd-analyze verify ($label): nothing about our unit (exit $rc)"
        else
            pass "systemd-analyze verify ($label)"
        fi
    fi
}
if command -v systemd-analyze >/dev/null 2>&1; then
    true_bin=$(command -v true)
    mkdir -p "$TMP/unit"
    sed "s#^ExecStart=/[^ ]*#ExecStart=$true_bin#" "$UNIT" >"$TMP/unit/hotline-gateway.service"
    verify_unit "EnvironmentFile" "$TMP/unit"
    # The commented credentials block, as the drop-in it says to write.
    mkdir -p "$TMP/unit/hotline-gateway.service.d"
    sed -n 's/^#cred //p' "$UNIT" >"$TMP/unit/hotline-gateway.service.d/credentials.conf"
    if [ -s "$TMP/unit/hotline-gateway.service.d/credentials.conf" ]; then
        verify_unit "LoadCredential drop-in" "$TMP/unit"
    else
        fail "unit: no '#cred ' block found"
    fi
else
    skip "systemd-analyze not installed: unit not verified"
fi

# The wrapper in the drop-in: systemd turns $$ into $, then sh runs it.
wrapper=$(sed -n "s/^#cred ExecStart=\/bin\/sh -c '\(.*\)'\$/\1/p" "$UNIT" | sed 's/\$\$/$/g')
if [ -z "$wrapper" ]; then
    fail "unit: no '#cred ExecStart=/bin/sh -c ...' wrapper"
else
    mkdir -p "$TMP/creds" "$TMP/bin"
    printf 'tok-1\n' >"$TMP/creds/env_GATEWAY_USSD_TOKEN"
    printf 'k e y' >"$TMP/creds/env_GATEWAY_DATA_KEY"
    printf 'x' >"$TMP/creds/env_bad-name"
    printf 'x' >"$TMP/creds/other"
    printf '#!/bin/sh\necho "args=$*"\nenv\n' >"$TMP/bin/gw"
    chmod +x "$TMP/bin/gw"
    run=${wrapper//\/usr\/local\/bin\/hotline-gateway/$TMP\/bin\/gw}
    out=$(env -i PATH=/usr/bin:/bin CREDENTIALS_DIRECTORY="$TMP/creds" /bin/sh -c "$run" 2>&1) || true
    if grep -qx 'GATEWAY_USSD_TOKEN=tok-1' <<<"$out" && grep -qx 'GATEWAY_DATA_KEY=k e y' <<<"$out" &&
        ! grep -q 'bad-name\|^other=' <<<"$out" && grep -q '^args=serve --config /' <<<"$out"; then
        pass "credentials wrapper: exports env_NAME files as NAME, skips other names, execs serve"
    else
        fail "credentials wrapper output:"
        printf '      %s\n' "$out"
    fi
fi

# --- 3. HAProxy ---------------------------------------------------------
if ! command -v haproxy >/dev/null 2>&1; then
    skip "haproxy not installed (apt-get install haproxy): haproxy.cfg not checked"
elif ! command -v openssl >/dev/null 2>&1; then
    skip "openssl not installed: no certificate for haproxy -c"
else
    mkdir -p "$TMP/ha"
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
        -keyout "$TMP/ha/key.pem" -out "$TMP/ha/cert.pem" >/dev/null 2>&1
    cat "$TMP/ha/cert.pem" "$TMP/ha/key.pem" >"$TMP/ha/gateway.pem"
    grep -q 'crt /etc/haproxy/certs/gateway.pem' "$HACFG" || fail "haproxy.cfg: crt path not found"
    sed "s#/etc/haproxy/certs/gateway.pem#$TMP/ha/gateway.pem#g" "$HACFG" >"$TMP/ha/check.cfg"
    if [ ! -d /etc/haproxy/errors ]; then  # haproxy not from the Debian package
        sed -i '/^[[:space:]]*errorfile /d' "$TMP/ha/check.cfg"
    fi
    if out=$(haproxy -c -f "$TMP/ha/check.cfg" 2>&1); then
        warnings=$(grep -E 'WARNING|ALERT' <<<"$out" || true)
        if [ -n "$warnings" ]; then
            fail "haproxy -c: warnings:"
            printf '      %s\n' "$warnings"
        else
            pass "haproxy -c"
        fi
    else
        fail "haproxy -c:"
        printf '      %s\n' "$out"
    fi

    if ! command -v python3 >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
        skip "python3 or curl missing: haproxy.cfg not run"
    else
        # Free ports: HTTP, HTTPS, two stand-in gateways.
        read -r P80 P443 PG1 PG2 < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(4)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
        cat >"$TMP/ha/gw.py" <<'EOF'
# A stand-in gateway: /healthz answers what health-<name> says ("503 text");
# anything else echoes the node, path, X-Forwarded-For headers and body.
import http.server, os, sys
name, port, state = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def answer(self, code, text):
        b = text.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        if self.path == "/healthz":
            f = os.path.join(state, "health-" + name)
            code, text = (open(f).read() if os.path.exists(f) else "200 ok\n").split(" ", 1)
            return self.answer(int(code), text)
        xff = self.headers.get_all("X-Forwarded-For") or []
        self.answer(200, "node=%s path=%s xff=%s body=%s\n" % (name, self.path, "|".join(xff), body))
    do_GET = do_POST = any
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
        python3 "$TMP/ha/gw.py" gw1 "$PG1" "$TMP/ha" & PIDS+=($!)
        python3 "$TMP/ha/gw.py" gw2 "$PG2" "$TMP/ha" & PIDS+=($!)
        # Runnable by anyone: no chroot, user or daemon; log to stdout; the
        # local ports; both nodes on (gw2 is disabled in the kit); fast checks;
        # "internal" = 127.0.0.1 only, so 127.0.0.2 plays an outside client.
        sed -E -e '/^[[:space:]]*(chroot|user|group|daemon)([[:space:]]|$)/d' \
            -e '/^[[:space:]]*log \/dev\/log local1/d' \
            -e 's#^([[:space:]]*)log /dev/log local0#\1log stdout format raw local0#' \
            -e "s#stats socket /run/haproxy/admin.sock#stats socket $TMP/ha/admin.sock#" \
            -e "s#^([[:space:]]*)bind :80\$#\1bind 127.0.0.1:$P80#" \
            -e "s#^([[:space:]]*)bind :443 #\1bind 127.0.0.1:$P443 #" \
            -e "s#127\.0\.0\.1:8081#127.0.0.1:$PG1#; s#127\.0\.0\.1:8082#127.0.0.1:$PG2#" \
            -e 's#[[:space:]]+disabled$##' \
            -e 's#inter 5s fall 3 rise 2#inter 200ms fall 1 rise 1#' \
            -e 's#^([[:space:]]*)acl internal src .*#\1acl internal src 127.0.0.1#' \
            "$TMP/ha/check.cfg" >"$TMP/ha/run.cfg"
        for port in "$PG1" "$PG2"; do
            for _ in $(seq 50); do
                curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
                sleep 0.1
            done
        done
        haproxy -db -f "$TMP/ha/run.cfg" >"$TMP/ha/haproxy.log" 2>&1 & PIDS+=($!)
        hp_pid=$!
        state_of() {  # backend server
            python3 - "$TMP/ha/admin.sock" "$1" "$2" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"show stat\n")
d = b""
while True:
    x = s.recv(65536)
    if not x: break
    d += x
for l in d.decode().splitlines():
    f = l.split(",")
    if len(f) > 17 and f[0] == sys.argv[2] and f[1] == sys.argv[3]: print(f[17].split()[0])
EOF
        }
        # Started when every node of every backend is UP.
        for _ in $(seq 50); do
            up=0
            for b in ussd gateway metrics; do
                for n in gw1 gw2; do
                    [ "$(state_of "$b" "$n" 2>/dev/null || true)" = UP ] && up=$((up + 1))
                done
            done
            [ "$up" -eq 6 ] && break
            sleep 0.1
        done
        [ "$up" -eq 6 ] || fail "haproxy: nodes not all UP after 5 s"
        C=(curl -sk --max-time 5)
        H="https://127.0.0.1:$P443"
        f0=$failures

        # USSD: every hop of a session on one node; sessions on both nodes.
        declare -A node_of=()
        spread=""
        for s in ATUid_1 ATUid_2 ATUid_3 ATUid_4 ATUid_5 ATUid_6 ATUid_7 ATUid_8 \
            ATUid_9 ATUid_10 ATUid_11 ATUid_12; do
            for text in "" "2" "2*2"; do
                r=$("${C[@]}" "$H/ussd/africastalking?token=T" --data-urlencode "sessionId=$s" \
                    --data-urlencode "phoneNumber=+996555123456" --data-urlencode "text=$text")
                n=$(sed -n 's/^node=\([a-z0-9]*\) .*/\1/p' <<<"$r")
                if [ -z "$n" ]; then
                    fail "ussd: no answer for $s: $r"
                    break 2
                fi
                if [ -n "${node_of[$s]:-}" ] && [ "${node_of[$s]}" != "$n" ]; then
                    fail "ussd: session $s went to ${node_of[$s]} and $n"
                fi
                node_of[$s]=$n
            done
            spread+="${node_of[$s]} "
        done
        if [[ "$spread" != *gw1* || "$spread" != *gw2* ]]; then
            fail "ussd: sessions not spread over both nodes: $spread"
        fi

        # Routing and headers.
        r=$("${C[@]}" "$H/sms/kannel?from=%2B996555123456&text=secret-words&token=T" \
            -H 'X-Forwarded-For: 127.0.0.1')
        [[ "$r" == *"path=/sms/kannel?"* && "$r" == *"xff=127.0.0.1 body"* ]] ||
            fail "sms: expected the client's own X-Forwarded-For dropped and one added: $r"
        for p in /api/partner/v1/referrals /api/operator/v1/queue /console /console/app.js \
            /sms/twilio/dlr; do
            r=$("${C[@]}" "$H$p")
            [[ "$r" == node=* ]] || fail "route $p: $r"
        done
        code=$("${C[@]}" -o /dev/null -w '%{http_code}' "$H/etc/passwd")
        [ "$code" = 404 ] || fail "unknown path: $code, expected 404"
        r=$("${C[@]}" "$H/metrics")
        [[ "$r" == *"path=/metrics xff= body"* ]] ||
            fail "/metrics from inside: expected it without X-Forwarded-For: $r"
        for p in /metrics /healthz; do
            code=$("${C[@]}" --interface 127.0.0.2 -o /dev/null -w '%{http_code}' \
                "https://127.0.0.1:$P443$p" 2>/dev/null || true)
            if [ "$code" = 000 ]; then
                echo "      note: cannot connect with source address 127.0.0.2 here; outside-client ACLs not run"
                break
            fi
            [ "$code" = 403 ] || fail "$p from outside: $code, expected 403"
        done
        r=$("${C[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' -X POST \
            "http://127.0.0.1:$P80/ussd/africastalking?token=T")
        [[ "$r" == "308 https://"* ]] || fail "http: expected a 308 to https: $r"
        hsts=$("${C[@]}" -D - -o /dev/null "$H/console/" | tr -d '\r' | grep -i '^strict-transport-security:' || true)
        [ -n "$hsts" ] || fail "https: no Strict-Transport-Security"
        sleep 0.3
        if grep -qE 'token=|from=|secret-words' "$TMP/ha/haproxy.log"; then
            fail "haproxy log holds query strings:"
            grep -m3 -E 'token=|from=|secret-words' "$TMP/ha/haproxy.log" | sed 's/^/      /'
        elif ! grep -q ' GET /sms/kannel$' "$TMP/ha/haproxy.log"; then
            fail "haproxy log: no request lines (expected 'GET /sms/kannel')"
        fi

        # Health: a node with a degraded SMPP link stays in; failing storage,
        # a 500 or another body takes it out.
        expect_state() {  # what want
            local st=""
            for _ in $(seq 30); do
                st=$(state_of ussd gw1)
                [ "$st" = "$2" ] && return 0
                sleep 0.1
            done
            fail "health: $1: gw1 is ${st:-unknown}, expected $2"
        }
        printf '503 degraded: smpp-operator: cannot connect: Connection refused\n' >"$TMP/ha/health-gw1"
        sleep 1
        expect_state "SMPP link down" UP
        printf '503 degraded: storage failing\n' >"$TMP/ha/health-gw1"
        expect_state "storage failing" DOWN
        printf '200 ok\n' >"$TMP/ha/health-gw1"
        expect_state "ok again" UP
        printf '500 internal error\n' >"$TMP/ha/health-gw1"
        expect_state "500" DOWN
        rm -f "$TMP/ha/health-gw1"

        kill "$hp_pid" 2>/dev/null || true
        if [ "$failures" -eq "$f0" ]; then
            pass "haproxy run: routing, USSD stickiness, X-Forwarded-For, ACLs, redirect, log, health checks"
        else
            echo "      haproxy log: $TMP/ha/haproxy.log (removed on exit)"
            tail -5 "$TMP/ha/haproxy.log" | sed 's/^/      /'
        fi
    fi
fi

if [ "$failures" -gt 0 ]; then
    echo "deploy kit: $failures check(s) failed"
    exit 1
fi
if [ "$skipped" -gt 0 ]; then
    echo "deploy kit: passed what could run, $skipped part(s) skipped"
    exit 77
fi
echo "deploy kit: all checks passed"
