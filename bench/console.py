#!/usr/bin/env python3
"""Console benchmark: how fast a notification reaches an open console page over Server-Sent
Events, and what console pages cost the API's latency under the transit benchmark's load.

Starts `smartborder serve` (release build) on a fresh SQLite database on loopback, then:
  1. SSE latency, idle: an Azerbaijani officer's page listens on /console/live; Kazakhstan
     releases a movement through the API; the time from the release request's start to the
     pre-arrival event in the page's stream (it includes the durable commit). N samples.
  2. API alone: the transit load generator (crates/server/examples/loadgen.rs) at RATE
     requests/s on 32 connections -> API p50 / p99.
  3. API with the console: the same load plus CONSOLE_RATE console pages/s (board, movement,
     pre-arrival pages of signed-in people) -> API p50 / p99, page p50 / p95, and SSE latency
     under that load (the listening page also receives every notification of the load).
Stops the server it started by its PID. Usage: bench/console.py [SECONDS] [RATE] [CONSOLE_RATE]
"""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/smartborder")
LOADGEN = os.path.join(ROOT, "target/release/examples/loadgen")
SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 10
RATE = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
CONSOLE_RATE = int(sys.argv[3]) if len(sys.argv) > 3 else 50
SAMPLES = 200
RUNS = 5


def pct(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def cli(*args, stdin=None):
    out = subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, check=True)
    return out.stdout.strip()


class Client:
    """One keep-alive HTTP/1.1 connection with a cookie jar of one cookie."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        data = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                self.cookies[name] = rest.split(";")[0]
        return r.status, data.decode("utf-8", "replace")

    def sign_in(self, login, password):
        _, page = self.request("GET", "/console/sign-in")
        token = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
        form = f"csrf={token}&login={login}&password={password}&back=/console/"
        status, _ = self.request("POST", "/console/sign-in", form,
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 303, status


def api(port, token, method, path, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=json.dumps(body),
              headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    r = c.getresponse()
    data = json.loads(r.read())
    c.close()
    return r.status, data


class Listener(threading.Thread):
    """An open console page's event stream: records when each MRN's notification arrives."""

    def __init__(self, port, cookie):
        super().__init__(daemon=True)
        self.port, self.cookie = port, cookie
        self.arrived = {}
        self.ready = threading.Event()

    def run(self):
        s = socket.create_connection(("127.0.0.1", self.port))
        s.sendall(f"GET /console/live HTTP/1.1\r\nHost: x\r\nCookie: {self.cookie}\r\n"
                  "Accept: text/event-stream\r\n\r\n".encode())
        buf = b""
        self.ready.set()
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return
            now = time.perf_counter()
            buf += chunk
            for mrn in re.findall(rb'movements/([0-9A-Z]{18})', buf):
                self.arrived.setdefault(mrn.decode(), now)
            buf = buf[-200:]


def sse_latency(port, kz_key, listener, samples):
    lat = []
    for i in range(samples):
        _, lodged = api(port, kz_key, "POST", "/api/v1/movements",
                        {"lrn": f"SSE{os.getpid() % 10000:04d}{i:06d}{len(listener.arrived):06d}",
                         "route": {"departure": "KZ000101", "transit": [{"office": "AZ000201"}],
                                   "destination": "GE000301"}})
        mrn = lodged["movement"]["mrn"]
        limit = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 10 * 86400))
        start = time.perf_counter()
        status, _ = api(port, kz_key, "POST", f"/api/v1/movements/{mrn}/events",
                        {"type": "released_for_transit", "office": "KZ000101", "limit_date": limit})
        assert status == 200, status
        deadline = start + 10
        while mrn not in listener.arrived and time.perf_counter() < deadline:
            time.sleep(0.0005)
        lat.append((listener.arrived.get(mrn, deadline) - start) * 1000)
        # Samples of the lodgement's notification are not counted: only the release's.
    return lat


def console_load(port, sessions, pages, rate, seconds, out):
    """Open-loop GETs of `pages` at `rate` per second over the signed-in sessions."""
    interval = 1.0 / rate
    start = time.perf_counter()
    lock = threading.Lock()
    n = [0]

    def worker(client):
        while True:
            with lock:
                k = n[0]
                n[0] += 1
            due = start + k * interval
            if due - start > seconds:
                return
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                status, _ = client.request("GET", pages[k % len(pages)])
            except (http.client.HTTPException, OSError):
                # A keep-alive connection the server closed while idle: reconnect once.
                client.conn.close()
                client.conn = http.client.HTTPConnection("127.0.0.1", client.port, timeout=30)
                status, _ = client.request("GET", pages[k % len(pages)])
            with lock:
                out.append(((time.perf_counter() - due) * 1000, status))

    threads = [threading.Thread(target=worker, args=(c,)) for c in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    work = tempfile.mkdtemp(prefix="smartborder-bench-console.")
    db = f"sqlite://{work}/bench.db"
    users = [("az.officer", "officer", "AZ", "AZ000201"), ("kz.super", "supervisor", "KZ", None)]
    for login, role, country, office in users:
        args = ["users", "create", "--db", db, "--login", login, "--role", role, "--country", country,
                "--password-stdin"]
        if office:
            args += ["--office", office]
        cli(*args, stdin="bench password 123\n")
    kz_key = cli("keys", "create", "--db", db, "--country", "KZ", "--name", "bench")
    port = 18190
    server = subprocess.Popen([BIN, "serve", "--db", db, "--listen", f"127.0.0.1:{port}",
                               "--audit-key", f"{work}/audit.key", "--max-clock-skew", "600"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        server.stdout.readline()
        officer = Client(port)
        officer.sign_in("az.officer", "bench password 123")
        cookie = "; ".join(f"{k}={v}" for k, v in officer.cookies.items())
        listener = Listener(port, cookie)
        listener.start()
        listener.ready.wait()
        time.sleep(0.3)
        idle = sse_latency(port, kz_key, listener, SAMPLES)
        mrns = list(listener.arrived)

        def loadgen():
            out = subprocess.run([LOADGEN, f"127.0.0.1:{port}", kz_key, "32", str(SECONDS), str(RATE)],
                                 capture_output=True, text=True, check=True)
            return json.loads(out.stdout)

        sessions = []
        for _ in range(8):
            c = Client(port)
            c.sign_in("kz.super", "bench password 123")
            sessions.append(c)
        console_pages = ["/console/movements", "/console/arrivals",
                         "/console/movements?status=released_for_transit"]
        console_pages += [f"/console/movements/{m}" for m in mrns[:20]]
        static = ["/console/assets/console.css"]
        pages, static_out = [], []
        loaded_sse = []
        alones, statics, togethers = [], [], []

        def with_load(targets, out, sse):
            result = {}
            t = threading.Thread(target=lambda: result.update(loadgen()))
            t.start()
            time.sleep(0.5)
            c = threading.Thread(target=console_load, args=(port, sessions, targets, CONSOLE_RATE, SECONDS - 1, out))
            c.start()
            if sse:
                loaded_sse.extend(sse_latency(port, kz_key, listener, 30))
            c.join()
            t.join()
            return result

        # p99 at this rate moves by tens of ms from run to run (fsync stalls on this disk), and
        # the benchmark's own clients share the machine's two cores: the three conditions
        # alternate, and the third (a static file at the same rate) measures the clients' cost.
        for _ in range(RUNS):
            alones.append(loadgen())
            statics.append(with_load(static, static_out, False))
            togethers.append(with_load(console_pages, pages, True))
    finally:
        server.terminate()
        server.wait()

    ok_pages = [ms for ms, status in pages if status == 200]
    print(f"console benchmark, {time.strftime('%Y-%m-%d')}, SQLite, {SECONDS:.0f} s per run, "
          f"API load {RATE} req/s on 32 connections, console {CONSOLE_RATE} pages/s on 8 sessions\n")
    print("| measure | p50 ms | p95 ms | p99 ms | n |")
    print("|---|---|---|---|---|")
    print(f"| SSE: release request -> event in an open page (idle) | {pct(idle, .5):.1f} | {pct(idle, .95):.1f} | {pct(idle, .99):.1f} | {len(idle)} |")
    print(f"| SSE under API + console load | {pct(loaded_sse, .5):.1f} | {pct(loaded_sse, .95):.1f} | {pct(loaded_sse, .99):.1f} | {len(loaded_sse)} |")
    def median(runs, key):
        return sorted(r[key] for r in runs)[len(runs) // 2]

    for name, runs in [("alone", alones), ("with the same rate of a static file (client cost)", statics),
                       ("with console pages", togethers)]:
        p99s = ", ".join(f"{r['p99_ms']:.1f}" for r in runs)
        print(f"| API events, {name} (median of {len(runs)} runs; p99 of each: {p99s}) | "
              f"{median(runs, 'p50_ms'):.1f} | - | {median(runs, 'p99_ms'):.1f} | "
              f"{sum(r['acknowledged'] for r in runs)} |")
    print(f"| console pages under API load | {pct(ok_pages, .5):.1f} | {pct(ok_pages, .95):.1f} | {pct(ok_pages, .99):.1f} | {len(ok_pages)} of {len(pages)} |")
    a, st, t = median(alones, "p99_ms"), median(statics, "p99_ms"), median(togethers, "p99_ms")
    extra = (t / a - 1) * 100 if a else float("nan")
    over_static = (t / st - 1) * 100 if st else float("nan")
    print(f"\nAPI p99 with console pages: {extra:+.1f}% against the API alone, {over_static:+.1f}% "
          f"against the same client load on a static file (goal: under +10%); errors: "
          f"{sum(r['errors'] for r in alones + togethers)} API, {len(pages) - len(ok_pages)} console")


if __name__ == "__main__":
    main()
