#!/usr/bin/env python3
"""The movements board at scale: page times of GET /api/v1/movements with its filters, on a SQLite
database of --movements movements (default 1,000,000) along the corridor's routes, against the
same queries run straight in SQLite from Python (the floor: what the database alone costs).

The database is made by the release binary (`smartborder keys create` creates and migrates it),
then filled in bulk with Python's sqlite3: movements at every stage, spread over a year, with
their countries and offices. The server is started on it, asked each query --requests times
over one keep-alive connection (first pages and pages deep in the list, by cursor), and stopped
by its PID.

Usage: cargo build --release && python3 bench/board.py [--movements 1000000] [--requests 200]
"""

import argparse
import http.client
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "smartborder")

ROUTES = [
    ["KZ000101", "AZ000201", "GE000301"],
    ["KZ000102", "AZ000201", "GE000302"],
    ["UZ000101", "KZ000201", "AZ000201", "GE000301"],
    ["KG000101", "KZ000301", "AZ000202", "GE000303"],
    ["TM000101", "AZ000203", "GE000301"],
    ["TJ000101", "UZ000201", "TM000201", "AZ000201", "GE000302"],
    ["AM000101", "GE000304"],
]
STATUSES = ["accepted"] * 2 + ["released_for_transit"] * 5 + ["arrived_at_destination"] * 2 + \
    ["goods_released"] * 3 + ["written_off"] * 10 + ["under_enquiry"] + ["invalidated"]


def body(lrn, mrn, route, status):
    return json.dumps({
        "lrn": lrn, "mrn": mrn,
        "route": {"departure": route[0],
                  "transit": [{"office": o, "estimated_arrival": None} for o in route[1:-1]],
                  "destination": route[-1]},
        "status": status, "limit_date": None,
        "transit_progress": [{"anticipated_record": None, "arrival": None, "frontier_crossed": None}
                             for _ in route[1:-1]],
        "actual_destination": None,
        "events": [{"type": "accepted", "mrn": mrn, "office": route[0],
                    "at": "2026-01-01T00:00:00Z", "zone": "Asia/Almaty"}],
    }, separators=(",", ":"))


def fill(path, n, rng):
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    start = 1767225600 * 1_000_000  # 2026-01-01T00:00:00Z
    year = 365 * 86400 * 1_000_000
    chunk = 50_000
    for base in range(0, n, chunk):
        movements, countries, offices = [], [], []
        for i in range(base + 1, min(n, base + chunk) + 1):
            route = ROUTES[rng.randrange(len(ROUTES))]
            status = STATUSES[rng.randrange(len(STATUSES))]
            mrn = f"26{route[0][:2]}{i:012d}J0"
            lrn = f"L{i:09d}"
            lodged = start + (i * year) // n
            movements.append((i, lrn, mrn, route[0][:2], status, body(lrn, mrn, route, status), 1, lodged, lodged))
            for c in dict.fromkeys(o[:2] for o in route):
                countries.append((i, c))
            for o in dict.fromkeys(route):
                offices.append((i, o))
        db.executemany("INSERT INTO movements (id, lrn, mrn, departure_country, status, body, event_count, updated_at, lodged_at) VALUES (?,?,?,?,?,?,?,?,?)", movements)
        db.executemany("INSERT INTO movement_countries (movement_id, country) VALUES (?,?)", countries)
        db.executemany("INSERT INTO movement_offices (movement_id, office) VALUES (?,?)", offices)
        db.commit()
        print(f"\r  {min(n, base + chunk):,} / {n:,} movements", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    db.execute("ANALYZE")
    db.commit()
    db.close()


def percentiles(samples):
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--movements", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} is missing: run cargo build --release first")
    rng = random.Random(20261201)
    work = tempfile.mkdtemp(prefix="smartborder-board.")
    path = os.path.join(work, "board.db")
    url = f"sqlite://{path}"
    token = subprocess.run([BIN, "keys", "create", "--db", url, "--country", "GE", "--name", "bench"],
                           check=True, capture_output=True, text=True).stdout.strip()
    print(f"filling {args.movements:,} movements ...", file=sys.stderr)
    t = time.perf_counter()
    fill(path, args.movements, rng)
    print(f"filled in {time.perf_counter() - t:.0f} s", file=sys.stderr)

    # (name, API query), asked by Georgia, which is on every route.
    cases = [
        ("first page", ""),
        ("status", "status=under_enquiry"),
        ("office", "office=AZ000202"),
        ("office + status", "office=AZ000201&status=accepted"),
        ("country", "country=TJ"),
        ("lodged in June", "lodged_from=2026-06-01&lodged_to=2026-07-01"),
        ("newest first", "order=desc"),
    ]
    server = subprocess.Popen([BIN, "serve", "--db", url, "--listen", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        host, port = server.stdout.readline().split("http://")[1].split()[0].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port))
        headers = {"Authorization": f"Bearer {token}"}
        db = sqlite3.connect(path)
        print(f"\n{args.movements:,} movements; {args.requests} pages of 100 per query, "
              "half first pages, half from a random cursor; ms")
        print("| query | API p50 | API p95 | SQLite alone p50 | SQLite alone p95 |")
        print("|---|---|---|---|---|")
        for name, query in cases:
            api, floor = [], []
            for k in range(args.requests):
                after = 0 if k % 2 == 0 else rng.randrange(args.movements)
                order_desc = "order=desc" in query
                cursor = f"&after={after}" if after else ""
                path_q = f"/api/v1/movements?limit=100&{query}{cursor}"
                t = time.perf_counter()
                conn.request("GET", path_q, headers=headers)
                response = conn.getresponse()
                data = response.read()
                api.append((time.perf_counter() - t) * 1000)
                assert response.status == 200, (path_q, data[:200])
                # The floor: the board's SQL for Georgia (as crates/store/src/read.rs builds
                # it), run by sqlite3 directly.
                office = query.split("office=")[1].split("&")[0] if "office=" in query else None
                country = query.split("country=")[1].split("&")[0] if "country=" in query else None
                params, conditions = [], []
                if office:
                    text = "SELECT m.id, m.body FROM movement_offices d JOIN movements m ON m.id = d.movement_id AND d.office = ?"
                    params.append(office)
                    text += " JOIN movement_countries p0 ON p0.movement_id = m.id AND p0.country = ?"
                    params.append("GE")
                elif "status=" in query:
                    text = ("SELECT m.id, m.body FROM movements m"
                            " JOIN movement_countries p0 ON p0.movement_id = m.id AND p0.country = ?")
                    params.append("GE")
                else:
                    text = "SELECT m.id, m.body FROM movement_countries d JOIN movements m ON m.id = d.movement_id AND d.country = ?"
                    params.append(country or "GE")
                    if country:
                        text += " JOIN movement_countries p0 ON p0.movement_id = m.id AND p0.country = ?"
                        params.append("GE")
                key = "m.id" if ("status=" in query and not office) else "d.movement_id"
                if "status=" in query:
                    conditions.append("m.status = ?")
                    params.append(query.split("status=")[1].split("&")[0])
                if "lodged_from" in query:
                    for at, op in [(1780272000 * 1_000_000, ">="), (1782864000 * 1_000_000, "<")]:
                        conditions.append(f"m.lodged_at {op} ?")
                        conditions.append(f"{key} {op} COALESCE((SELECT id FROM movements WHERE lodged_at >= ? ORDER BY lodged_at LIMIT 1), 9223372036854775807)")
                        params += [at, at]
                if after:
                    conditions.append(f"{key} < ?" if order_desc else f"{key} > ?")
                    params.append(after)
                if conditions:
                    text += " WHERE " + " AND ".join(conditions)
                text += f" ORDER BY {key} {'DESC' if order_desc else 'ASC'} LIMIT 100"
                t = time.perf_counter()
                db.execute(text, params).fetchall()
                floor.append((time.perf_counter() - t) * 1000)
            a50, a95 = percentiles(api)
            f50, f95 = percentiles(floor)
            print(f"| {name} | {a50:.2f} | {a95:.2f} | {f50:.2f} | {f95:.2f} |")
    finally:
        server.terminate()  # the server this script started, by its PID
        server.wait()


if __name__ == "__main__":
    main()
