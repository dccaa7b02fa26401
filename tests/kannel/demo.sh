#!/usr/bin/env bash
# Self-contained demo/probe of a real Kannel (Debian packages `kannel` + `kannel-extras`)
# on loopback: bearerbox + smsbox + fakesmsc, with a python3 stand-in for our gateway.
#
#   bash tests/kannel/demo.sh            # exits 0 when every check passed
#   KEEP_STATE=1 bash tests/kannel/demo.sh   # keep the temp dir (logs) for inspection
#
# Needs: /usr/sbin/bearerbox, /usr/sbin/smsbox (pkg kannel),
#        /usr/lib/kannel/test/fakesmsc (pkg kannel-extras!), python3, curl.
# Everything binds to 127.0.0.1; all files go to a mktemp dir; every process we
# start is stopped (by PID) on exit.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATE="$HERE/kannel.conf.in"
BEARERBOX="${BEARERBOX:-/usr/sbin/bearerbox}"
SMSBOX="${SMSBOX:-/usr/sbin/smsbox}"
FAKESMSC="${FAKESMSC:-/usr/lib/kannel/test/fakesmsc}"

for b in "$BEARERBOX" "$SMSBOX" "$FAKESMSC"; do
  [[ -x "$b" ]] || { echo "missing $b (apt-get install -y kannel kannel-extras)" >&2; exit 2; }
done
command -v python3 >/dev/null && command -v curl >/dev/null || { echo "need python3 and curl" >&2; exit 2; }

STATE="$(mktemp -d /tmp/kannel-demo.XXXXXX)"
PASS=0; FAIL=0
GW_PID=""; BB_PID=""; SB_PID=""; FK_PID=""; HOLD_PID=""

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.2f}')" "$1" "$2"; }
ok()   { PASS=$((PASS+1)); echo "PASS: $*"; }
bad()  { FAIL=$((FAIL+1)); echo "FAIL: $*"; }

stop_pid() { # stop_pid PID SIGNAL TIMEOUT_TENTHS
  local pid="$1" sig="$2" n="$3"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < n; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  set +e
  local t0; t0=$(now)
  # fakesmsc first (SIGTERM: its own SIGINT/EOF path double-frees in interactive mode).
  stop_pid "$FK_PID" TERM 20
  stop_pid "$HOLD_PID" TERM 10
  # bearerbox SIGTERM = graceful shutdown; it tells smsbox to die too.
  stop_pid "$BB_PID" TERM 100
  stop_pid "$SB_PID" TERM 50
  stop_pid "$GW_PID" TERM 20
  echo "shutdown took $(elapsed "$t0" "$(now)")s"
  if [[ "${KEEP_STATE:-0}" == 1 ]]; then echo "state kept in $STATE"; else rm -rf "$STATE"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- free ports
read -r ADMIN_PORT BEARERBOX_PORT SENDSMS_PORT FAKESMSC_PORT GW_PORT < <(python3 - <<'EOF'
import socket
socks = []
for _ in range(5):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(*[s.getsockname()[1] for s in socks])
EOF
)
GATEWAY_URL="http://127.0.0.1:$GW_PORT"
echo "ports: admin=$ADMIN_PORT bearerbox(smsbox-port)=$BEARERBOX_PORT sendsms=$SENDSMS_PORT fakesmsc=$FAKESMSC_PORT gateway=$GW_PORT state=$STATE"

sed -e "s|@GATEWAY_TOKEN@|demo|g" -e "s|@ADMIN_PORT@|$ADMIN_PORT|g" -e "s|@BEARERBOX_PORT@|$BEARERBOX_PORT|g" \
    -e "s|@SENDSMS_PORT@|$SENDSMS_PORT|g" -e "s|@FAKESMSC_PORT@|$FAKESMSC_PORT|g" \
    -e "s|@GATEWAY_URL@|$GATEWAY_URL|g" -e "s|@STATE_DIR@|$STATE|g" \
    -e '/^group = smsbox$/a mo-recode = true' \
    "$TEMPLATE" > "$STATE/kannel.conf"
# mo-recode: this probe's python stand-in echoes the text and does not decode
# UCS-2 (the gateway does; the template leaves mo-recode off to prove it).
if grep -q '@[A-Z_]*@' "$STATE/kannel.conf"; then echo "unreplaced placeholder" >&2; exit 2; fi

# ---------------------------------------------------------------- stand-in gateway
cat > "$STATE/standin.py" <<'EOF'
import sys, urllib.parse
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
PORT, LOG = int(sys.argv[1]), sys.argv[2]
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # Kannel keeps connections alive: server must be threaded
    def do_GET(self):
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(self.path + "\n")
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        status, extra = 200, {}
        if u.path == "/sms/kannel":
            text = q.get("text", [""])[0]
            if text == "fail500":
                status, body = 500, b"boom"
            elif text == "empty":
                body = b""
            elif text == "nocharset":      # UCS-2 requested but no charset in Content-Type
                body = "ответ".encode("utf-8")
                extra["X-Kannel-Coding"] = "2"
            else:
                body = ("reply to " + text).encode("utf-8")
                if not body.isascii():
                    extra["X-Kannel-Coding"] = "2"   # else Kannel sends '?' for Cyrillic
        else:
            body = b"ok"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if q.get("text") == ["nocharset"] else "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
ThreadingHTTPServer(("127.0.0.1", PORT), H).serve_forever()
EOF
: > "$STATE/gw.log"
python3 "$STATE/standin.py" "$GW_PORT" "$STATE/gw.log" > "$STATE/standin.out" 2>&1 &
GW_PID=$!

wait_for() { # wait_for TENTHS CMD... ; returns 0 when CMD succeeds
  local n="$1"; shift
  for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
status_txt() { curl -sf "http://127.0.0.1:$ADMIN_PORT/status.txt?password=teststatus"; }
wait_for 50 curl -s -o /dev/null "$GATEWAY_URL/health" || { echo "stand-in did not start" >&2; exit 1; }

# ---------------------------------------------------------------- start kannel
T0=$(now)
"$BEARERBOX" -v 1 "$STATE/kannel.conf" > "$STATE/bearerbox.out" 2>&1 &
BB_PID=$!
# smsbox PANICs ("Couldn't connect to the bearerbox") if started before bearerbox listens.
wait_for 150 bash -c "curl -sf 'http://127.0.0.1:$ADMIN_PORT/status.txt?password=teststatus' | grep -q '^Status: running'" \
  || { echo "bearerbox not up"; cat "$STATE/bearerbox.out"; exit 1; }
T_BB=$(now)
"$SMSBOX" -v 1 "$STATE/kannel.conf" > "$STATE/smsbox.out" 2>&1 &
SB_PID=$!
wait_for 150 bash -c "curl -sf 'http://127.0.0.1:$ADMIN_PORT/status.txt?password=teststatus' | grep -q 'smsbox:'" \
  || { echo "smsbox not connected"; cat "$STATE/smsbox.out"; exit 1; }
# sendsms HTTP port answers (403 without credentials is fine)
wait_for 50 bash -c "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$SENDSMS_PORT/cgi-bin/sendsms | grep -q '^[1-5]'" \
  || { echo "sendsms port not up"; exit 1; }
T_SB=$(now)

# fakesmsc in interactive mode: one MO line per stdin line. A FIFO with a holder
# process keeps stdin open (EOF on stdin would end fakesmsc).
mkfifo "$STATE/fakesmsc.in"
"$FAKESMSC" -H 127.0.0.1 -r "$FAKESMSC_PORT" < "$STATE/fakesmsc.in" > "$STATE/fakesmsc.stdout" 2> "$STATE/fakesmsc.log" &
FK_PID=$!
sleep infinity > "$STATE/fakesmsc.in" &
HOLD_PID=$!
wait_for 150 bash -c "curl -sf 'http://127.0.0.1:$ADMIN_PORT/status.txt?password=teststatus' | grep -q 'FAKE:$FAKESMSC_PORT (online'" \
  || { echo "fakesmsc not connected"; status_txt; exit 1; }
T_FK=$(now)
echo "startup: bearerbox ready $(elapsed "$T0" "$T_BB")s, smsbox ready +$(elapsed "$T_BB" "$T_SB")s, fakesmsc online +$(elapsed "$T_SB" "$T_FK")s, total $(elapsed "$T0" "$T_FK")s"

inject() { printf '%s\n' "$1" > "$STATE/fakesmsc.in"; }   # "sender receiver type payload"
# Lines fakesmsc receives (MT) are logged on STDERR as: ... DEBUG: Got message N: <sender receiver type payload>
mt_lines() { sed -n 's/^.*Got message [0-9]*: <\(.*\)>$/\1/p' "$STATE/fakesmsc.log"; }
wait_mt() { # wait_mt TENTHS FIXED-STRING
  local n="$1" s="$2"
  for ((i = 0; i < n; i++)); do mt_lines | grep -qF -- "$s" && return 0; sleep 0.1; done
  return 1
}
wait_gw() { # wait_gw TENTHS FIXED-STRING (in requested path)
  local n="$1" s="$2"
  for ((i = 0; i < n; i++)); do grep -qF -- "$s" "$STATE/gw.log" && return 0; sleep 0.1; done
  return 1
}
# decode one fakesmsc line's payload: text -> as is; data/ucs-2 -> url-decoded ('+' = 0x20)
decode_line() {
  python3 - "$1" <<'EOF'
import sys, urllib.parse
snd, rcv, typ, payload = sys.argv[1].split(" ", 3)
if typ == "text":
    print(payload)
else:
    raw = urllib.parse.unquote_to_bytes(payload.replace("+", " "))
    print(raw.decode("utf-16-be" if typ == "ucs-2" else "utf-8"))
EOF
}
urlenc() { python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
ucs2enc() { python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1].encode("utf-16-be"), safe=""))' "$1"; }

# ---------------------------------------------------------------- (a)+(b) MO -> gateway -> reply
t=$(now)
inject "996555000111 1414 text hello world"
if wait_gw 100 "/sms/kannel?from=996555000111&to=1414&text=hello+world&id="; then
  ok "(a) gateway got: $(grep -F 'from=996555000111&to=1414&text=hello+world' "$STATE/gw.log" | head -1)  [$(elapsed "$t" "$(now)")s]"
else bad "(a) MO did not reach gateway"; fi
if wait_mt 100 "1414 996555000111 text reply to hello world"; then
  ok "(b) fakesmsc got: $(grep -F 'reply to hello world' "$STATE/fakesmsc.log" | head -1)  [$(elapsed "$t" "$(now)")s]"
else bad "(b) reply did not reach fakesmsc"; fi

# ---------------------------------------------------------------- (c) sendsms + DLR
DLR_URL="$GATEWAY_URL/dlr?msgid=m-42&type=%d&answer=%A&to=%p&from=%P&ts=%t&smsc=%i&kid=%I&fid=%F"
t=$(now)
resp=$(curl -s -w ' [HTTP %{http_code}]' "http://127.0.0.1:$SENDSMS_PORT/cgi-bin/sendsms?username=gw&password=gwpass&from=1414&to=996555000222&text=$(urlenc 'Your ticket is 17')&dlr-mask=31&dlr-url=$(urlenc "$DLR_URL")")
echo "sendsms response: $resp"
[[ "$resp" == "0: Accepted for delivery [HTTP 202]" ]] && ok "(c) sendsms accepted" || bad "(c) sendsms response: $resp"
wait_mt 100 "1414 996555000222 text Your ticket is 17" && ok "(c) MT at fakesmsc: <1414 996555000222 text Your ticket is 17>" || bad "(c) MT missing"
if wait_gw 100 "/dlr?msgid=m-42&type=8" && wait_gw 100 "/dlr?msgid=m-42&type=1"; then
  ok "(c) DLR callbacks [$(elapsed "$t" "$(now)")s]:"; grep -F '/dlr?msgid=m-42' "$STATE/gw.log" | sed 's/^/      /'
else bad "(c) DLR callbacks missing"; grep -F '/dlr' "$STATE/gw.log" || true; fi

# ---------------------------------------------------------------- (d) Cyrillic
inject "996555000333 1414 text ПОМОЩЬ"                       # raw UTF-8 as 7-bit "text"
wait_gw 100 "from=996555000333&to=1414&text=$(urlenc 'ПОМОЩЬ')&id=" \
  && ok "(d) UTF-8 'text' MO reaches gateway as UTF-8: $(grep -F 'from=996555000333' "$STATE/gw.log" | head -1)" \
  || bad "(d) ПОМОЩЬ (text) not seen by gateway: $(grep -F 'from=996555000333' "$STATE/gw.log" || true)"
inject "996555000444 1414 ucs2 $(ucs2enc 'ЖАРДАМ')"          # real phones send UCS-2
wait_gw 100 "from=996555000444&to=1414&text=$(urlenc 'ЖАРДАМ')&id=" \
  && ok "(d) UCS-2 MO reaches gateway as UTF-8 (mo-recode): $(grep -F 'from=996555000444' "$STATE/gw.log" | head -1)" \
  || bad "(d) ЖАРДАМ (ucs2) not seen by gateway: $(grep -F 'from=996555000444' "$STATE/gw.log" || true)"
for who in 996555000333:ПОМОЩЬ 996555000444:ЖАРДАМ; do
  num=${who%%:*}; word=${who#*:}
  if wait_mt 100 "1414 $num ucs-2 "; then
    line=$(mt_lines | grep -F "1414 $num ucs-2 " | head -1)
    dec=$(decode_line "$line")
    [[ "$dec" == "reply to $word" ]] && ok "(d) Cyrillic reply <$line> decodes to '$dec'" || bad "(d) reply decodes to '$dec'"
  else bad "(d) no ucs-2 reply for $num: $(mt_lines | grep -F " $num " || true)"; fi
done
curl -s -o /dev/null "http://127.0.0.1:$SENDSMS_PORT/cgi-bin/sendsms?username=gw&password=gwpass&from=1414&to=996555000555&text=$(urlenc 'Ваш номер 17')&coding=2&charset=UTF-8"
if wait_mt 100 "1414 996555000555 ucs-2 "; then
  line=$(mt_lines | grep -F "1414 996555000555 ucs-2 " | head -1); dec=$(decode_line "$line")
  [[ "$dec" == "Ваш номер 17" ]] && ok "(d) sendsms coding=2&charset=UTF-8 -> <$line> = '$dec'" || bad "(d) sendsms cyrillic decoded '$dec'"
else bad "(d) sendsms cyrillic missing"; fi
curl -s -o /dev/null "http://127.0.0.1:$SENDSMS_PORT/cgi-bin/sendsms?username=gw&password=gwpass&from=1414&to=996555000556&text=$(urlenc 'Ваш номер 17')&charset=UTF-8"
wait_mt 100 "1414 996555000556 text " \
  && ok "(d) pitfall confirmed: without coding=2 Cyrillic is lost: <$(mt_lines | grep -F '1414 996555000556 ' | head -1)>" \
  || bad "(d) expected lossy 7-bit MT"

# ---------------------------------------------------------------- gateway error / empty reply
inject "996555000666 1414 text fail500"
inject "996555000777 1414 text empty"
wait_gw 100 "from=996555000777" || true
sleep 2
echo "on HTTP 500 fakesmsc got: $(mt_lines | grep -F ' 996555000666 ' || echo '(nothing)')"
echo "on empty 200 fakesmsc got: $(mt_lines | grep -F ' 996555000777 ' || echo '(nothing)')"
mt_lines | grep -qF ' 996555000777 ' && bad "empty reply should be omitted (omit-empty)" || ok "empty body -> no SMS (omit-empty = true)"
mt_lines | grep -qF ' 996555000666 ' && bad "HTTP 500 should produce no SMS (reply-couldnotfetch = \"\")" || ok "HTTP 500 -> no SMS"

inject "996555000888 1414 text nocharset"
if wait_mt 50 " 996555000888 "; then
  line=$(mt_lines | grep -F ' 996555000888 ' | head -1)
  echo "X-Kannel-Coding: 2 but Content-Type without charset -> <$line> = '$(decode_line "$line" 2>&1)'"
fi

# ---------------------------------------------------------------- (f) no fakesmsc binary needed
# The fake SMSC protocol is plain text lines over TCP; a test can be the client
# itself. bearerbox serves ONE client at a time, so stop fakesmsc first.
stop_pid "$FK_PID" TERM 20; FK_PID=""
stop_pid "$HOLD_PID" TERM 10; HOLD_PID=""
t=$(now)
cat > "$STATE/tcpclient.py" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall("996555000999 1414 text ПОМОЩЬ\n".encode())
buf = b""
while not buf.endswith(b"\n"):
    buf += s.recv(4096)
print(buf.decode().rstrip("\n"))
s.close()
EOF
out=$(python3 "$STATE/tcpclient.py" "$FAKESMSC_PORT" 2>&1 || true)
if [[ "$out" == "1414 996555000999 ucs-2 "* ]] && [[ "$(decode_line "$out")" == "reply to ПОМОЩЬ" ]]; then
  ok "(f) raw TCP client got <$out> [$(elapsed "$t" "$(now)")s]"
else bad "(f) raw TCP client got <$out>"; fi

echo "demo: $PASS passed, $FAIL failed"
[[ $FAIL -eq 0 ]]
