#!/usr/bin/env python3
"""The driver of two_nodes_e2e.sh (Python 3, standard library only).

The shell script has started PostgreSQL, two gateway nodes (gwA, gwB) on one
database and HAProxy in front of them; this script plays the aggregators,
the phones and Kannel's sendsms, kills gwA with SIGKILL in the middle of the
traffic, restarts it, and checks what reached PostgreSQL and the fake Kannel.

  * USSD (Africa's Talking style, POST /ussd/africastalking through HAProxy,
    `balance roundrobin`, so consecutive hops of one session alternate
    nodes): sessions in Kyrgyz and Russian that walk to a case (END with her
    R- code) or to "SMS me this" (an info SMS through the outbox). Every
    answer is checked against the screen her presses lead to. A hop that
    fails at the HTTP level (the node died under it) is sent again, as
    aggregators do.
  * SMS (Kannel GET callbacks through HAProxy): HELP, language, "call me",
    "any time" -> a case whose code comes back in the reply. A callback that
    fails is sent again with the same message id, as Kannel does.
  * Fake Kannel sendsms: records every message with the outbox id the
    gateway puts in its dlr-url (ref=ob-<id>), answers "0: Accepted", then
    calls the dlr-url (through HAProxy) with status 1 (delivered).
  * Partners with focal phones get an SMS per new referral; the legal-aid
    partners' SLA is 0 hours, so every referral to them is overdue at the
    next sweep, which both nodes run (sweep_interval_ms is short).

The run, in order:
  1. traffic on both nodes; after 40 % of the USSD hops the fake Kannel holds
     gwA's next sendsms and gwA is killed with SIGKILL while Kannel has it
     (Kannel took the message, gwA never wrote "sent");
  2. gwB must send what gwA had claimed while gwA stays down (--orphan-wait);
  3. gwA restarts while the fake Kannel holds a message gwB is sending;
  4. HAProxy takes gwA back; new sessions run on both nodes;
  5. unrouted cases (as a node killed between storing a case and routing it
     leaves them: copies of a stored case, put in with SQL) for both nodes'
     sweeps;
  6. everything settles (outbox empty, reports in, referrals swept); then:
  - every acknowledged case (USSD END or SMS reply with R-...) is in
    PostgreSQL, once, one case per session, and no other case;
  - every session finished as her presses say (none stuck, none diverged);
  - every acknowledged inbound SMS id is recorded;
  - every outbox row is sent or delivered and was received by Kannel exactly
    once (the fake Kannel tells the sending node from /proc); the message
    gwA was killed with may come twice (at least once across a crash: a
    note); any other duplicate fails; one focal-point SMS per referral;
  - the sweep ran once: no case left unrouted, no case referred twice to one
    partner, one "overdue" event and one re-route per overdue referral;
  - consecutive hops changed node while both were up; the restarted node
    serves again.
Exit 0 when all hold, 1 otherwise; the last line is a one-line summary.
"""
import argparse
import collections
import http.client
import http.server
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

PSQL = "/usr/lib/postgresql/15/bin/psql"
REF = re.compile(r"R-[0-9]{7}")
T0 = time.monotonic()


def now():
    return time.monotonic() - T0


def log(msg):
    print("[%6.2f] %s" % (now(), msg), flush=True)


# --- what her presses must show --------------------------------------------
# A case: language, "lawyer, family", "need a lawyer", oblast (1-4: the four
# oblasts, each with a legal-aid partner), who she is, "call me", consent.
CASE_SCREENS = {
    "ru": ["Выберите язык", "1 Срочно", "1 Нужен юрист", "Ваша область?", "Вы:", "Связь",
           "Номер, тему и область"],
    "ky": ["Выберите язык", "1 Шашылыш", "1 Юрист керек", "Кайсы облустансыз?", "Сиз:",
           "Байланыш", "Номер, тема, облус"],
}
CASE_END = {"ru": "Принято, код: R-", "ky": "Кабыл алынды, код: R-"}
# "SMS me this": language, "lawyer, family", "what is free?", next page,
# "SMS", "send".
INFO_SCREENS = {
    "ru": ["Выберите язык", "1 Срочно", "2 Что бесплатно?", "Центры юрпомощи", "2 SMS",
           "Отправить?"],
    "ky": ["Выберите язык", "1 Шашылыш", "2 Эмне акысыз?", "Юридикалык жардам", "2 SMS",
           "Жөнөтөлүбү?"],
}
INFO_END = {"ru": "SMS скоро придёт", "ky": "SMS жакында келет"}
# SMS: HELP, language, "call me", "any time".
SMS_SCREENS = {
    "ru": ["Выберите язык", "1 Перезвоните", "Когда вам позвонить?", "Принято, код: R-"],
    "ky": ["Выберите язык", "1 Мага чалыңыз", "Качан чалалы?", "Кабыл алынды, код: R-"],
}
LANG_KEY = {"ky": "1", "ru": "2"}


class Shared:
    """Everything the threads record, under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.hops_done = 0
        self.hops = []            # (session, hop index, node, t)
        self.acked = {}           # reference -> where it was acknowledged
        self.finished = {}        # session -> "case R-..." / "sms" / ...
        self.problems = []        # strings: stuck / diverged / refused
        self.retried_hops = 0
        self.gaps = []            # seconds from a hop's first failure to its answer
        self.failure_times = []   # when an attempt failed
        self.sms_acked = set()    # inbound message ids answered 200
        self.sms_answers = {}     # message id -> first answer body


# --- the fake Kannel sendsms --------------------------------------------------
class Hold:
    """The next sendsms from `node` (None: any node) waits until released."""

    def __init__(self, node):
        self.node = node
        self.held = threading.Event()
        self.release = threading.Event()
        self.entry = None


class FakeKannel:
    def __init__(self, port, delay_s, pid_files):
        self.lock = threading.Lock()
        self.received = []        # dicts: t, ref, to, text, node
        self.delay_s = delay_s
        self.pid_files = pid_files  # node name -> pid file
        self.hold = None
        self.dlr_ok = set()       # outbox refs whose "delivered" report a node accepted
        self.dlr_failed = []
        self.dlr_threads = []
        kannel = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
                if u.path != "/cgi-bin/sendsms":
                    return self.answer(404, "not found")
                one = lambda k: (q.get(k) or [""])[0]
                if one("password") != kannel_password or one("username") != "hotline":
                    return self.answer(403, "Authorization failed for sendsms")
                dlr = one("dlr-url")
                m = re.search(r"[?&]ref=(ob-[0-9]+)", dlr)
                entry = {"t": now(), "ref": m.group(1) if m else "", "to": one("to"),
                         "text": one("text"), "node": kannel.sender(self.client_address[1])}
                hold = None
                with kannel.lock:
                    kannel.received.append(entry)
                    h = kannel.hold
                    if h and h.entry is None and h.node in (None, entry["node"]):
                        h.entry, hold = entry, h
                if hold:
                    entry["held"] = True
                    hold.held.set()
                    hold.release.wait(15)
                time.sleep(kannel.delay_s)
                try:
                    self.answer(202, "0: Accepted for delivery")
                except OSError:
                    pass  # the node that sent it was killed meanwhile
                if dlr:
                    t = threading.Thread(target=kannel.report, args=(dlr,), daemon=True)
                    with kannel.lock:
                        kannel.dlr_threads.append(t)
                    t.start()

            def answer(self, code, text):
                b = text.encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(b)))
                self.end_headers()
                self.wfile.write(b)

            def log_message(self, *a):
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a node killed in the middle of a request

        kannel_password = os.environ["KANNEL_SENDSMS_PASSWORD"]
        self.port = port
        self.server = Server(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sender(self, client_port):
        """Which node holds the other end of a connection (/proc: same user)."""
        inode = None
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as f:
                    lines = f.readlines()[1:]
            except OSError:
                continue
            for line in lines:
                f = line.split()
                local, remote = f[1].rsplit(":", 1), f[2].rsplit(":", 1)
                if int(local[1], 16) == client_port and int(remote[1], 16) == self.port:
                    inode = f[9]
                    break
            if inode:
                break
        if not inode:
            return "?"
        target = "socket:[%s]" % inode
        for node, pid_file in self.pid_files.items():
            try:
                pid = read_pid(pid_file)
                for fd in os.listdir("/proc/%d/fd" % pid):
                    if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == target:
                        return node
            except OSError:
                continue
        return "?"

    def hold_next(self, node):
        h = Hold(node)
        with self.lock:
            self.hold = h
        return h

    def report(self, dlr):
        """Kannel's delivery report: the dlr-url with %d = 1 (delivered)."""
        m = re.search(r"[?&]ref=(ob-[0-9]+)", dlr)
        time.sleep(0.05)
        url = urllib.parse.urlsplit(dlr.replace("%d", "1"))
        for _ in range(40):
            try:
                c = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
                c.request("GET", url.path + "?" + url.query)
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    with self.lock:
                        self.dlr_ok.add(m.group(1) if m else "")
                    return
            except OSError:
                pass
            time.sleep(0.2)
        with self.lock:
            self.dlr_failed.append(dlr)

    def snapshot(self):
        with self.lock:
            return list(self.received)


# --- HTTP through HAProxy -------------------------------------------------------
def call(port, method, path, body=None, timeout=15):
    """(status, body, node); status 0 when the connection failed."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read().decode("utf-8", "replace")
        node = r.getheader("X-Served-By") or ""
        c.close()
        return r.status, data, node
    except (OSError, http.client.HTTPException) as e:
        return 0, "%s: %s" % (type(e).__name__, e), ""


def retrying(shared, deadline, label, attempt):
    """Runs attempt() until a 200 (or a 4xx, which is an answer too).
    Returns (status, body, node) or None when the deadline passed."""
    first_failure = None
    while True:
        status, body, node = attempt()
        if status != 0 and status < 500:
            if first_failure is not None:
                with shared.lock:
                    shared.retried_hops += 1
                    shared.gaps.append(now() - first_failure)
            return status, body, node
        t = now()
        with shared.lock:
            shared.failure_times.append(t)
        if first_failure is None:
            first_failure = t
        if time.monotonic() > deadline:
            with shared.lock:
                shared.problems.append("%s: no answer until the deadline (last: %s %s)" %
                                       (label, status, body[:80]))
            return None
        time.sleep(0.1)


def ussd_session(args, shared, sid, phone, lang, kind, think, deadline, rnd):
    if kind == "case":
        presses = [LANG_KEY[lang], "2", "1", str(rnd.randint(1, 4)), str(rnd.randint(1, 4)),
                   "1", "1"]
        screens, end = CASE_SCREENS[lang], CASE_END[lang]
    else:
        presses = [LANG_KEY[lang], "2", "2", "98", "2", "1"]
        screens, end = INFO_SCREENS[lang], INFO_END[lang]
    path = "/ussd/africastalking?token=" + urllib.parse.quote(os.environ["GATEWAY_USSD_TOKEN"])
    for hop in range(len(presses) + 1):
        text = "*".join(presses[:hop])
        form = urllib.parse.urlencode({"sessionId": sid, "phoneNumber": phone,
                                       "serviceCode": "*384#", "text": text})
        label = "ussd %s (%s %s) hop %d text '%s'" % (sid, lang, kind, hop, text)
        got = retrying(shared, deadline, label, lambda: call(args.haproxy_port, "POST", path, form))
        if got is None:
            return
        status, body, node = got
        last = hop == len(presses)
        ok = status == 200 and (
            (last and body.startswith("END ") and end in body) or
            (not last and body.startswith("CON ") and screens[hop] in body))
        if not ok:
            with shared.lock:
                shared.problems.append("%s on %s: expected %s '%s', got %d '%s'" % (
                    label, node or "?", "END" if last else "CON",
                    end if last else screens[hop], status, body.replace("\n", " | ")[:160]))
            return
        with shared.lock:
            shared.hops_done += 1
            shared.hops.append((sid, hop, node, now()))
            if last:
                m = REF.search(body)
                if kind == "case" and m:
                    shared.acked[m.group(0)] = "ussd " + sid
                    shared.finished[sid] = "case " + m.group(0)
                elif kind == "info":
                    shared.finished[sid] = "info sms"
                else:
                    shared.problems.append("%s: END without a code: %s" % (label, body))
        if not last:
            time.sleep(rnd.uniform(*think))


def sms_conversation(args, shared, conv, phone, lang, think, deadline, rnd):
    token = os.environ["GATEWAY_KANNEL_TOKEN"]
    for i, (text, expect) in enumerate(zip(["HELP", LANG_KEY[lang], "1", "1"], SMS_SCREENS[lang])):
        mid = "%s-%d" % (conv, i)
        q = urllib.parse.urlencode({"from": phone, "to": "1414", "text": text, "id": mid,
                                    "coding": "0", "charset": "UTF-8", "token": token})
        label = "sms %s (%s) message %d '%s'" % (conv, lang, i, text)
        got = retrying(shared, deadline, label,
                       lambda: call(args.haproxy_port, "GET", "/sms/kannel?" + q))
        if got is None:
            return
        status, body, node = got
        if status != 200 or expect not in body:
            with shared.lock:
                shared.problems.append("%s on %s: expected '%s', got %d '%s'" % (
                    label, node or "?", expect, status, body.replace("\n", " | ")[:160]))
            return
        with shared.lock:
            shared.sms_acked.add(mid)
            shared.sms_answers[mid] = body
            if i == 3:
                m = REF.search(body)
                shared.acked[m.group(0)] = "sms " + conv
                shared.finished[conv] = "case " + m.group(0)
        time.sleep(rnd.uniform(*think))


# --- PostgreSQL -----------------------------------------------------------------
def sql(query):
    out = subprocess.run([PSQL, os.environ["GATEWAY_PG_URL"], "-XAtq", "-F", "\t", "-c", query],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise RuntimeError("psql: %s: %s" % (query, out.stderr.strip()))
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def sql_int(query):
    return int(sql(query)[0][0])


# --- HAProxy's view -------------------------------------------------------------
def haproxy_state(sock_path, backend, server):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        s.connect(sock_path)
        s.sendall(b"show stat\n")
        data = b""
        while True:
            x = s.recv(65536)
            if not x:
                break
            data += x
        s.close()
    except OSError:
        return ""
    for line in data.decode().splitlines():
        f = line.split(",")
        if len(f) > 17 and f[0] == backend and f[1] == server:
            return f[17].split()[0]
    return ""


def some(items, n=8):
    items = list(items)
    return ", ".join(items[:n]) + (", ... (%d in all)" % len(items) if len(items) > n else "")


def wait_until(pred, timeout, step=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


# --- the gateway nodes ----------------------------------------------------------
def read_pid(path):
    with open(path) as f:
        return int(f.read().strip())


def start_node(args, config, log_path, pid_path):
    """Starts a node as the shell script does; True once it listens."""
    before = os.path.getsize(log_path) if os.path.exists(log_path) else 0
    out = open(log_path, "ab")
    p = subprocess.Popen([args.binary, "serve", "--config", config], stdout=out,
                         stderr=subprocess.STDOUT, start_new_session=True)
    out.close()
    with open(pid_path, "w") as f:
        f.write(str(p.pid))

    def listening():
        with open(log_path, "rb") as f:
            f.seek(before)
            return b"hotline gateway listening on" in f.read()
    ok = wait_until(listening, 20, 0.05)
    return ok and p.poll() is None


def node_logs_routing(d, refs):
    """Which node logged routing each case ("referral: case R-... -> ..."), when."""
    found = collections.defaultdict(list)
    for node in ("gwA", "gwB"):
        try:
            with open(os.path.join(d, node + ".log"), encoding="utf-8", errors="replace") as f:
                for line in f:
                    for ref in refs:
                        if "referral: case %s ->" % ref in line:
                            found[ref].append("%s at %s" % (node, line[12:24]))
        except OSError:
            pass
    return "; ".join("%s: %s" % (r, ", ".join(w)) for r, w in found.items()) or "?"


CASE_COLUMNS = ("phone, channel, language, topic, subtopic, oblast, target_group, details, "
                "consent, urgent, safe_to_call, created_at, notify_sms, phone_sealed, "
                "sms_channel, transcript, contact, call_time")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--haproxy-port", type=int, required=True)
    ap.add_argument("--kannel-port", type=int, required=True)
    ap.add_argument("--port-a", type=int, required=True)
    ap.add_argument("--port-b", type=int, required=True)
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--sms", type=int, default=10)
    ap.add_argument("--probe-cases", type=int, default=100)
    ap.add_argument("--orphan-wait", type=float, default=15.0,
                    help="seconds after the kill for gwB to send what gwA had claimed")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    args = ap.parse_args()
    d = args.dir
    rnd = random.Random(args.seed)
    log("seed %d (TWO_NODES_SEED=%d repeats this run's choices)" % (args.seed, args.seed))
    shared = Shared()
    pid_files = {"gwA": os.path.join(d, "gwA.pid"), "gwB": os.path.join(d, "gwB.pid")}
    kannel = FakeKannel(args.kannel_port, 0.02, pid_files)
    sock = os.path.join(d, "haproxy.sock")
    think = (0.12, 0.40)
    run = "%06x" % rnd.randrange(1 << 24)
    failures = []
    notes = []

    # 1. Traffic on both nodes. After 40 % of the USSD hops, the fake Kannel
    # holds gwA's next sendsms and gwA is killed while Kannel has it: the
    # worst moment for the outbox (Kannel took it, "sent" never recorded).
    kinds = [("ky" if i % 2 else "ru", "info" if i % 3 == 2 else "case")
             for i in range(args.sessions)]
    total_hops = sum(8 if k == "case" else 7 for _, k in kinds)
    kill_at = int(total_hops * 0.4)
    deadline = time.monotonic() + 45
    threads = []
    for i, (lang, kind) in enumerate(kinds):
        a = ("ATUid_2n_%s_%d" % (run, i), "+99655%07d" % (1000000 + rnd.randrange(8000000)),
             lang, kind, rnd.uniform(0, 3.0), random.Random(rnd.random()))
        threads.append(threading.Thread(target=lambda a=a: (
            time.sleep(a[4]), ussd_session(args, shared, a[0], a[1], a[2], a[3], think, deadline,
                                           a[5]))))
    for i in range(args.sms):
        a = ("kannel-2n-%s-%d" % (run, i), "+7916%07d" % rnd.randrange(10000000),
             "ky" if i % 2 else "ru", rnd.uniform(0, 3.0), random.Random(rnd.random()))
        threads.append(threading.Thread(target=lambda a=a: (
            time.sleep(a[3]), sms_conversation(args, shared, a[0], a[1], a[2], think, deadline,
                                               a[4]))))
    log("traffic: %d USSD sessions (%d hops), %d SMS conversations; gwA dies after hop %d" %
        (len(kinds), total_hops, args.sms, kill_at))
    for t in threads:
        t.start()

    killed = {}

    def killer():
        while time.monotonic() < deadline:
            with shared.lock:
                if shared.hops_done >= kill_at:
                    break
            time.sleep(0.005)
        hold = kannel.hold_next("gwA")
        caught = hold.held.wait(3)
        with shared.lock:
            n = shared.hops_done
        pid = read_pid(pid_files["gwA"])
        os.kill(pid, signal.SIGKILL)
        killed.update(t=now(), hop=n, pid=pid, ref=hold.entry["ref"] if caught else "")
        log("kill -9 gwA (pid %d) after hop %d%s" % (
            pid, n, ", while Kannel holds its %s" % killed["ref"] if caught else
            " (it sent nothing to Kannel within 3 s)"))
        with kannel.lock:
            kannel.hold = None
        hold.release.set()
        if wait_until(lambda: haproxy_state(sock, "ussd", "gwA") == "DOWN", 10, 0.02):
            killed["down_after"] = now() - killed["t"]
            log("HAProxy: gwA DOWN %.2f s after the kill" % killed["down_after"])

    kt = threading.Thread(target=killer)
    kt.start()
    for t in threads:
        t.join()
    kt.join()
    log("traffic done: %d hops, %d cases acknowledged, %d problems" %
        (shared.hops_done, len(shared.acked), len(shared.problems)))

    # 2. What gwA was sending when it died is gwB's to send now (not a
    # message left behind until gwA comes back).
    orphans = []
    if killed:
        left = lambda: sql("SELECT id FROM outbox WHERE status = 'sending'")
        wait_until(lambda: not left(), max(0.0, killed["t"] + args.orphan_wait - now()), 0.25)
        orphans = ["ob-" + r[0] for r in left()]
        if orphans:
            failures.append(
                "outbox rows gwA had claimed are still 'sending' %.0f s after the kill, gwB "
                "running: %s (nothing takes back a dead node's claims while it stays down)" % (
                    now() - killed["t"], some(orphans)))

    # 3. gwA restarts while gwB is sending: the fake Kannel holds gwB's next
    # message until gwA listens (its outbox has started by then).
    restarted = False
    restart_ref = ""
    restart_t = None
    hold = kannel.hold_next("gwB")
    ussd_session(args, shared, "ATUid_2n_%s_hold" % run, "+996555%06d" % rnd.randrange(1000000),
                 "ru", "info", (0.0, 0.05), time.monotonic() + 20, random.Random(1))
    if hold.held.wait(10):
        restart_ref = hold.entry["ref"]
        log("Kannel holds %s from gwB; restarting gwA" % restart_ref)
    else:
        failures.append("gwB sent nothing to Kannel within 10 s while gwA was down")
    restarted = start_node(args, os.path.join(d, "gateway-a.yaml"), os.path.join(d, "gwA.log"),
                           pid_files["gwA"])
    restart_t = now()
    if restarted:
        log("gwA listens again")
    else:
        failures.append("gwA did not start again (see gwA.log)")
    time.sleep(0.8)
    with kannel.lock:
        kannel.hold = None
    hold.release.set()

    # 4. The restarted node serves: HAProxy has it UP again, its /healthz is
    # ok, and new sessions run on both nodes.
    up_again_t = None
    if restarted:
        if wait_until(lambda: haproxy_state(sock, "ussd", "gwA") == "UP", 10):
            up_again_t = now()
        else:
            failures.append("HAProxy did not take gwA back within 10 s")
        status, body, _ = call(args.port_a, "GET", "/healthz")
        if status != 200:
            failures.append("gwA /healthz after the restart: %d %s" % (status, body.strip()))
        before = len(shared.hops)
        after = []
        for i in range(6):
            a = ("ATUid_2n_%s_after_%d" % (run, i), "+99655%07d" % (9000000 + rnd.randrange(999999)),
                 "ky" if i % 2 else "ru")
            after.append(threading.Thread(target=ussd_session, args=(
                args, shared, a[0], a[1], a[2], "case", (0.05, 0.15), time.monotonic() + 20,
                random.Random(rnd.random()))))
        for t in after:
            t.start()
        for t in after:
            t.join()
        nodes_after = collections.Counter(h[2] for h in shared.hops[before:])
        log("after the restart: hops per node %s" % dict(nodes_after))
        if nodes_after.get("gwA", 0) == 0:
            failures.append("the restarted gwA served none of %d hops" % sum(nodes_after.values()))

    # 5. Cases left unrouted (as by a node killed between storing a case and
    # routing it) while both nodes sweep: each must be routed once.
    probe_refs = []
    ussd_cases = sorted(r for r, w in shared.acked.items() if w.startswith("ussd"))
    if args.probe_cases and ussd_cases:
        taken = {r[0] for r in sql("SELECT reference FROM cases")}
        while len(probe_refs) < args.probe_cases:
            r = "R-%07d" % rnd.randrange(10000000)
            if r not in taken and r not in probe_refs:
                probe_refs.append(r)
        sql("INSERT INTO cases (reference, origin_key, status, session_id, needs_hotline, %s) "
            "SELECT v.ref, 'two-nodes-probe-' || v.ref, 'new', '', 0, %s FROM cases c, "
            "(VALUES %s) AS v(ref) WHERE c.reference = '%s'" % (
                CASE_COLUMNS, CASE_COLUMNS.replace("created_at", "extract(epoch FROM now())::bigint"),
                ", ".join("('%s')" % r for r in probe_refs), ussd_cases[0]))
        log("%d unrouted cases (copies of %s) put in for both nodes' sweeps" %
            (len(probe_refs), ussd_cases[0]))

    # 6. Everything settles: outbox sent, delivery reports in, referrals swept.
    def settled():
        open_rows = sql_int("SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')")
        overdue = sql_int("SELECT count(*) FROM referrals WHERE status = 'new' AND due_at > 0 "
                          "AND due_at < extract(epoch FROM now())::bigint")
        unrouted = sql_int("SELECT count(*) FROM cases c WHERE NOT EXISTS "
                           "(SELECT 1 FROM referrals r WHERE r.case_id = c.id)")
        with kannel.lock:
            reports = all(not t.is_alive() for t in kannel.dlr_threads)
        return open_rows == 0 and overdue == 0 and unrouted == 0 and reports
    if not wait_until(settled, 25, 0.25):
        notes.append("not settled after 25 s (outbox, referrals or delivery reports still open)")
    time.sleep(1.0)  # one more sweep on each node
    log("settled")

    # 7. Checks.
    failures.extend(shared.problems)
    # Every acknowledged case stored, once, one per session.
    db_refs = collections.Counter(r[0] for r in sql("SELECT reference FROM cases"))
    lost = sorted(r for r in shared.acked if r not in db_refs)
    if lost:
        failures.append("acknowledged cases missing from PostgreSQL: %s" % some(lost))
    twice = sorted(r for r, n in db_refs.items() if n > 1)
    if twice:
        failures.append("cases stored more than once: %s" % some(twice))
    per_session = sql("SELECT session_id, count(*) FROM cases WHERE session_id <> '' "
                      "GROUP BY session_id HAVING count(*) > 1")
    if per_session:
        failures.append("%d session(s) made more than one case" % len(per_session))
    unacked = sorted(r for r in db_refs if r not in shared.acked and r not in probe_refs)
    if unacked:
        failures.append("stored cases no phone was told about: %s" % some(unacked))
    # Every session finished as her presses say.
    started = len(kinds) + args.sms + 1 + (6 if restarted else 0)
    unfinished = started - len(shared.finished)
    if unfinished:
        failures.append("%d of %d sessions/conversations did not finish" % (unfinished, started))
    # Every acknowledged inbound SMS recorded.
    db_inbound = {r[0] for r in sql("SELECT message_id FROM inbound_messages "
                                    "WHERE aggregator = 'kannel'")}
    missing_in = sorted(shared.sms_acked - db_inbound)
    if missing_in:
        failures.append("acknowledged inbound SMS not recorded: %s" % some(missing_in))
    # The outbox against what Kannel received.
    rows = {("ob-" + r[0]): r for r in sql("SELECT id, status, purpose FROM outbox")}
    received = kannel.snapshot()
    by_ref = collections.defaultdict(list)
    for e in received:
        by_ref[e["ref"]].append(e)
    not_done = sorted(k for k, r in rows.items() if r[1] not in ("sent", "delivered"))
    if not_done:
        failures.append("outbox rows not sent: %s" % some(
            "%s %s (%s)" % (k, rows[k][1], rows[k][2]) for k in not_done))
    never = sorted(k for k, r in rows.items() if r[1] in ("sent", "delivered") and k not in by_ref)
    if never:
        failures.append("outbox rows marked sent that Kannel never received: %s" % some(never))
    unknown = sorted(k for k in by_ref if k not in rows)
    if unknown:
        failures.append("Kannel received messages with no outbox row: %s" % some(unknown))
    duplicates = {k: v for k, v in by_ref.items() if len(v) > 1}
    for ref, copies in sorted(duplicates.items()):
        what = "%s (%s) received %d times: %s" % (
            ref, rows.get(ref, ["", "", "?"])[2], len(copies),
            ", ".join("from %s at %.2f s" % (c["node"], c["t"]) for c in copies))
        if ref == killed.get("ref") and len(copies) == 2:
            # Kannel took it, gwA died before writing "sent": at least once.
            notes.append("duplicate SMS %s: gwA was killed between Kannel's answer and "
                         "recording 'sent' (the one duplicate a crash may cause)" % what)
        elif ref == restart_ref:
            failures.append("duplicate SMS %s: gwB was sending it when gwA started again, and "
                            "gwA's start queued it again (outbox_worker::start -> "
                            "requeue_unfinished puts every 'sending' row back, also other "
                            "nodes' messages in flight)" % what)
        else:
            failures.append("duplicate SMS %s" % what)
    focal = collections.defaultdict(set)  # case reference -> outbox ids quoting it
    for e in received:
        for r in REF.findall(e["text"]):
            focal[r].add(e["ref"])
    referred = sorted(r for r, w in shared.acked.items() if w.startswith("ussd")) + probe_refs
    focal_wrong = sorted("%s x%d" % (r, len(focal[r])) for r in set(referred)
                         if len(focal[r]) != 1)
    if focal_wrong:
        failures.append("focal-point SMS (outbox rows) per referred case not exactly one: %s" %
                        some(focal_wrong))
    delivered = sum(1 for r in rows.values() if r[1] == "delivered")
    with kannel.lock:
        dlr_failed = list(kannel.dlr_failed)
        dlr_ok = set(kannel.dlr_ok)
    stale = sorted(k for k, r in rows.items() if r[1] == "sent" and k in dlr_ok)
    for k in stale:
        if k in duplicates:
            notes.append("%s stays 'sent' although its delivery report was taken: the second "
                         "copy's 'sent' overwrote 'delivered'" % k)
        else:
            reports = sql("SELECT coalesce(outbox_id::text, 'none'), status, received_at FROM "
                          "delivery_reports WHERE provider_id = '%s' ORDER BY id" % k)
            row = sql("SELECT updated_at FROM outbox WHERE id = %s" % k[3:])
            failures.append(
                "%s stays 'sent' although a node took its 'delivered' report (reports: %s; row "
                "updated at %s): a report that came while 'sent' was being written stays "
                "unattached (record_delivery_report and mark_sent in two transactions, READ "
                "COMMITTED)?" % (k, some("outbox_id %s %s at %s" % tuple(x) for x in reports),
                                 row[0][0] if row else "?"))
    if dlr_failed:
        failures.append("%d delivery report(s) refused or lost" % len(dlr_failed))
    # The sweep ran once: everything routed, nothing routed or moved twice.
    unrouted = sql_int("SELECT count(*) FROM cases c WHERE NOT EXISTS "
                       "(SELECT 1 FROM referrals r WHERE r.case_id = c.id)")
    if unrouted:
        failures.append("%d case(s) never routed" % unrouted)
    same_partner = sql("SELECT c.reference, r.partner, count(*) FROM referrals r JOIN cases c ON "
                       "c.id = r.case_id WHERE r.partner <> '' GROUP BY c.reference, r.partner "
                       "HAVING count(*) > 1 ORDER BY 1")
    routed_by = lambda refs: node_logs_routing(d, refs)
    if same_partner:
        probes = [x for x in same_partner if x[0] in probe_refs]
        others = [x for x in same_partner if x[0] not in probe_refs]
        listed = lambda xs: some(("%s x%s -> %s" % (ref, n, p) for ref, p, n in xs), 6)
        if probes:
            failures.append(
                "%d of the %d unrouted cases were referred twice to one partner: %s: both "
                "nodes' sweeps (referral_service::sweep -> unrouted_cases -> route_case) routed "
                "them at once; route_case's guard (routing_) is per process and "
                "create_referral does not check for an existing referral" % (
                    len(probes), len(probe_refs), listed(probes)))
        if others:
            failures.append(
                "%d case(s) from the traffic referred twice to one partner: %s; routed by %s "
                "(the hop that made the case routes it at once, and the node running the "
                "sweep found it unrouted meanwhile: route_case's guard is per process)" % (
                    len(others), listed(others),
                    routed_by([r for r, _, _ in others])))
    twice_overdue = sql("SELECT referral_id, count(*) FROM referral_events WHERE action = "
                        "'overdue' GROUP BY referral_id HAVING count(*) > 1")
    for rid, n in twice_overdue:
        failures.append("referral %s handled as overdue %s times" % (rid, n))
    chains = sql("SELECT c.reference, count(*), count(*) FILTER (WHERE r.status = 'overdue') "
                 "FROM referrals r JOIN cases c ON c.id = r.case_id GROUP BY c.reference "
                 "HAVING count(*) <> 1 + count(*) FILTER (WHERE r.status = 'overdue') ORDER BY 1")
    extra = [c for c in chains if not any(c[0] == s[0] for s in same_partner)]
    for ref, total, overdue in extra[:6]:
        detail = sql("SELECT r.id, r.partner, r.status, r.rule, r.created_at, (SELECT "
                     "string_agg(e.actor || ':' || e.action, '+' ORDER BY e.id) FROM "
                     "referral_events e WHERE e.referral_id = r.id) FROM referrals r JOIN cases c "
                     "ON c.id = r.case_id WHERE c.reference = '%s' ORDER BY r.id" % ref)
        failures.append("case %s has %s referrals for %s overdue one(s), routed more than once: "
                        "%s; routed by %s" % (ref, total, overdue, "; ".join(
                            "#%s %s %s (rule %s, at %s, events %s)" % (
                                i, p or "operators", st, ru or "-", at, ev)
                            for i, p, st, ru, at, ev in detail), routed_by([ref])))
    overdue_total = sql_int("SELECT count(*) FROM referrals WHERE status = 'overdue'")
    if overdue_total == 0:
        failures.append("no referral went overdue: the sweep did not run")
    # Consecutive hops of a session on different nodes, while both were up.
    both_up = lambda t: (not killed or t < killed["t"]) or (up_again_t and t > up_again_t)
    by_session = collections.defaultdict(list)
    for sid, hop, node, t in shared.hops:
        by_session[sid].append((hop, node, t))
    pairs = switched = 0
    for hops in by_session.values():
        hops.sort()
        for (h1, n1, t1), (h2, n2, t2) in zip(hops, hops[1:]):
            if h2 == h1 + 1 and both_up(t1) and both_up(t2):
                pairs += 1
                switched += n1 != n2
    if pairs < 20 or switched < pairs // 4:
        failures.append("only %d of %d consecutive hops (both nodes up) changed node" %
                        (switched, pairs))
    if killed and not any(h[3] > killed["t"] for h in shared.hops):
        failures.append("no hop was answered after the kill")
    gap = max(shared.gaps) if shared.gaps else 0.0

    for n in notes:
        log("note: " + n)
    for f in failures:
        log("FAIL: " + f)
    n_dup = sum(len(v) - 1 for v in duplicates.values())
    summary = (
        "two nodes: %d sessions + %d SMS conversations, %d cases (+%d unrouted put in), gwA killed "
        "after hop %s%s, %d lost, %d duplicate SMS of %d (%d delivered), %d/%d hops changed node, "
        "%d hops retried, failover gap %.2f s, HAProxy down after %s, sweep: %d overdue "
        "re-routed, %d case(s) routed twice" % (
            started - args.sms, args.sms, len(db_refs) - len(probe_refs), len(probe_refs),
            killed.get("hop", "-"), " holding " + killed["ref"] if killed.get("ref") else "",
            len(lost), n_dup, len(rows), delivered, switched, pairs, shared.retried_hops, gap,
            "%.2f s" % killed["down_after"] if "down_after" in killed else "-", overdue_total,
            len({s[0] for s in same_partner} | {c[0] for c in extra})))
    print(("PASS " if not failures else "FAIL ") + summary, flush=True)
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
