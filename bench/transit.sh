#!/usr/bin/env bash
# Transit single window load benchmark: `smartborder serve` on loopback, on SQLite and on
# PostgreSQL (a throwaway cluster, as in CI), driven by the load generator
# (crates/server/examples/loadgen.rs) on the same machine:
#   1. as fast as acknowledged: 64 connections, closed loop -> durable events per second;
#   2. open loop at 1,000 requests per second, 32 connections -> p50 / p99 latency.
# Every acknowledged event is durable (group commit; SQLite synchronous=FULL, PostgreSQL fsync).
# Usage: bench/transit.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-10}"
cargo build --release --quiet
cargo build --release --quiet -p smartborder-server --example loadgen
BIN="$PWD/target/release/smartborder"
LOADGEN="$PWD/target/release/examples/loadgen"
WORK="$(mktemp -d /tmp/smartborder-bench-transit.XXXXXX)"
PGDIR="$(mktemp -d /tmp/smartborder-bench-pg.XXXXXX)"  # its own directory: the server runs as postgres
SERVER_PID=""
cleanup() {
    # Only the server this script started, by its PID.
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    .ci/postgres stop "$PGDIR" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
eval "$(.ci/postgres start "$PGDIR" 2>"$WORK/postgres-start.log")"

run() { # name db port
    local name="$1" db="$2" port="$3"
    local token
    token="$("$BIN" keys create --db "$db" --country KZ --name bench 2>/dev/null)"
    "$BIN" serve --db "$db" --listen "127.0.0.1:$port" --audit-key "$WORK/audit.key" \
        > "$WORK/$name.log" 2>&1 &
    SERVER_PID=$!
    sleep 1
    "$LOADGEN" "127.0.0.1:$port" "$token" 64 "$SECONDS_PER_RUN" 0 > "$WORK/$name.max.json"
    "$LOADGEN" "127.0.0.1:$port" "$token" 32 "$SECONDS_PER_RUN" 1000 > "$WORK/$name.fixed.json"
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}
run sqlite "sqlite://$WORK/bench.db" 18181
run postgres "$SMARTBORDER_TEST_POSTGRES_URL" 18182

python3 - "$WORK" <<'PY'
import json, sys, os
work = sys.argv[1]
print("| store | max durable events/s (64 conn.) | p50 / p99 ms at max | p50 / p99 ms at 1,000 req/s | errors |")
print("|---|---|---|---|---|")
for name in ["sqlite", "postgres"]:
    m = json.load(open(os.path.join(work, f"{name}.max.json")))
    f = json.load(open(os.path.join(work, f"{name}.fixed.json")))
    print(f"| {name} | {m['events_per_second']:,.0f} | {m['p50_ms']:.1f} / {m['p99_ms']:.1f} | "
          f"{f['p50_ms']:.1f} / {f['p99_ms']:.1f} | {m['errors'] + f['errors']} |")
PY
