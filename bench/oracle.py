#!/usr/bin/env python3
"""Existence oracle by timing: how long an administration off a movement's route waits for the
answer about that movement, against an unknown MRN. Both must be answered alike (404, same
body) and in about the same time, however long the movement's history.

Starts the release `smartborder serve` on a temporary SQLite database, lodges a movement from
Kazakhstan with a history of --events incidents, then asks from Uzbekistan (no office on the
route), interleaved: GET /movements/{mrn}, GET /movements/{unknown}, and the same for a CC013C
posted to /messages. Prints medians and 99th percentiles in milliseconds.

Usage: python3 bench/oracle.py [--events 5000] [--requests 2000]
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "smartborder")


def key(db, country):
    out = subprocess.run([BIN, "keys", "create", "--db", db, "--country", country, "--name", "bench"],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def request(conn, method, path, token, body=None, content_type="application/json"):
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = content_type
    start = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    return response.status, data, (time.perf_counter() - start) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} is missing: run cargo build --release first")
    work = tempfile.mkdtemp(prefix="smartborder-oracle.")
    db = f"sqlite://{work}/oracle.db"
    kz, uz = key(db, "KZ"), key(db, "UZ")
    server = subprocess.Popen([BIN, "serve", "--db", db, "--listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        host, port = line.split("http://")[1].split()[0].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port))
        lodge = {"lrn": "ORACLE-1", "route": {"departure": "KZ000101",
                 "transit": [{"office": "AZ000201"}], "destination": "GE000301"}}
        status, data, _ = request(conn, "POST", "/api/v1/movements", kz, json.dumps(lodge))
        assert status == 201, data
        mrn = json.loads(data)["movement"]["mrn"]
        limit = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 8 * 86400))
        release = {"type": "released_for_transit", "office": "KZ000101", "limit_date": limit}
        status, data, _ = request(conn, "POST", f"/api/v1/movements/{mrn}/events", kz, json.dumps(release))
        assert status == 200, data
        for i in range(args.events):
            incident = {"type": "incident", "office": "KZ000101", "description": f"incident {i}"}
            status, data, _ = request(conn, "POST", f"/api/v1/movements/{mrn}/events", kz, json.dumps(incident))
            assert status == 200, data
        unknown = "26KZ7Q2M4X9B1C0DJ8"
        amendment = open(os.path.join(ROOT, "crates", "cli", "tests", "common", "mod.rs")).read()
        start = amendment.index('r#"<?xml version="1.0" encoding="UTF-8"?>\n<ncts:CC015C')
        cc015c = amendment[start + 3:amendment.index('</ncts:CC015C>"#', start) + len("</ncts:CC015C>")]
        cc015c = cc015c.replace("{recipient}", "NTA.KZ").replace("{lrn}", "X")

        def cc013c(m):
            return (cc015c.replace("CC015C", "CC013C").replace("<LRN>X</LRN>", f"<MRN>{m}</MRN>")
                    .replace("<bindingItinerary>1</bindingItinerary>",
                             "<bindingItinerary>1</bindingItinerary><amendmentTypeFlag>0</amendmentTypeFlag>"))
        times = {name: [] for name in ["GET off route", "GET unknown", "CC013C off route", "CC013C unknown"]}
        for _ in range(args.requests):
            for name, method, path, body, ctype in [
                ("GET off route", "GET", f"/api/v1/movements/{mrn}", None, None),
                ("GET unknown", "GET", f"/api/v1/movements/{unknown}", None, None),
                ("CC013C off route", "POST", f"/api/v1/movements/{mrn}/messages", cc013c(mrn), "application/xml"),
                ("CC013C unknown", "POST", f"/api/v1/movements/{unknown}/messages", cc013c(unknown), "application/xml"),
            ]:
                status, _, ms = request(conn, method, path, uz, body, ctype or "application/json")
                assert status == 404, (name, status)
                times[name].append(ms)
        print(f"history of {args.events + 2} events; {args.requests} requests each, interleaved; ms")
        print("| request | median | p99 |")
        print("|---|---|---|")
        for name, t in times.items():
            t.sort()
            print(f"| {name} | {statistics.median(t):.3f} | {t[int(len(t) * 0.99) - 1]:.3f} |")
    finally:
        server.terminate()  # the server this script started, by its PID
        server.wait()


if __name__ == "__main__":
    main()
