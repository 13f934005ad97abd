#!/usr/bin/env bash
# The live risk API (POST /api/v1/risk/assess) under load: `smartborder serve` on loopback with
# SQLite, KZ's configuration published from the KCS example (profiles, value bands, selectivity
# plan with score thresholds, a model trained on the KCS 2020 declarations), driven by the load
# generator (crates/server/examples/loadgen.rs) on the same 2 cores with KCS 2021 Q1
# declarations:
#   1. single declarations, open loop at 1,000 requests/s, 32 connections -> p50 / p99;
#   2. batches of 5,000 declarations, closed loop, 2 connections -> declarations/s;
#   3. the model published again twice during run 1's load -> errors, p99, max;
# and the server's CPU time per declaration during run 2.
# Usage: bench/risk-live.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-10}"
DATA="${SMARTBORDER_KCS_DATA:-../shared/data/kcs-customs}"
cargo build --release --quiet
cargo build --release --quiet -p smartborder-server --example loadgen
BIN="$PWD/target/release/smartborder"
LOADGEN="$PWD/target/release/examples/loadgen"
WORK="$(mktemp -d /tmp/smartborder-bench-risk-live.XXXXXX)"
SERVER_PID=""
LOAD_PID=""
cleanup() {
    # Only the processes this script started, by their PIDs.
    for pid in "$LOAD_PID" "$SERVER_PID"; do
        if [ -n "$pid" ]; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
DB="sqlite://$WORK/bench.db"

"$BIN" risk train --data "$DATA/df_syn_train_eng.csv" --mapping kcs --model "$WORK/model.json" > "$WORK/train.log"
cp profiles/kcs-rules.risk "$WORK/profiles.risk"
cp profiles/kcs-bands.csv "$WORK/kcs-bands.csv"
# The example plan (its score_at_least thresholds decide declarations one at a time).
cp profiles/kcs-selectivity.toml "$WORK/selectivity.toml"
"$BIN" risk publish --db "$DB" --country KZ --by bench \
    "$WORK/profiles.risk" "$WORK/kcs-bands.csv" "$WORK/selectivity.toml" "$WORK/model.json" > /dev/null
TOKEN="$("$BIN" keys create --db "$DB" --country KZ --name bench 2>/dev/null)"

python3 - "$DATA/df_syn_valid_eng.csv" "$WORK" <<'PY'
import csv, json, sys, os
path, work = sys.argv[1], sys.argv[2]
columns = {"declaration_id": "Declaration ID", "date": "Date", "office": "Office ID",
           "regime": "Import Type", "declarant": "Declarant ID", "importer": "Importer ID",
           "seller": "Seller ID", "hs_code": "HS6 Code", "origin": "Country of Origin",
           "departure": "Country of Departure"}
numbers = {"mass_kg": "Net Mass", "value": "Item Price", "tax_rate_percent": "Tax Rate"}
attributes = {"process_type": "Process Type", "import_use": "Import Use",
              "payment_type": "Payment Type", "transport_mode": "Mode of Transport",
              "courier": "Courier ID", "tax_type": "Tax Type",
              "origin_indicator": "Country of Origin Indicator"}
rows = []
for r in csv.DictReader(open(path)):
    d = {k: r[c] for k, c in columns.items() if r.get(c, "") != ""}
    d["hs_code"] = d["hs_code"].zfill(6)
    d.update({k: float(r[c]) for k, c in numbers.items() if r.get(c, "") != ""})
    d["attributes"] = {k: r[c] for k, c in attributes.items() if r.get(c, "") != ""}
    rows.append(d)
json.dump({"declarations": rows[:1]}, open(os.path.join(work, "single.json"), "w"))
json.dump({"declarations": rows[:5000]}, open(os.path.join(work, "batch.json"), "w"))
PY

"$BIN" serve --db "$DB" --listen 127.0.0.1:18191 > "$WORK/serve.log" 2>&1 &
SERVER_PID=$!
sleep 1
A=127.0.0.1:18191
# Warm the configuration (compiled on the first request).
"$LOADGEN" "$A" "$TOKEN" 1 1 0 "$WORK/single.json" > /dev/null
"$LOADGEN" "$A" "$TOKEN" 32 "$SECONDS_PER_RUN" 1000 "$WORK/single.json" > "$WORK/single.json.out"
# The server's CPU time (user + system, clock ticks) around the batch run.
server_ticks() { awk '{print $14 + $15}' "/proc/$SERVER_PID/stat"; }
TICKS_BEFORE="$(server_ticks)"
"$LOADGEN" "$A" "$TOKEN" 2 "$SECONDS_PER_RUN" 0 "$WORK/batch.json" > "$WORK/batch.json.out"
server_ticks > "$WORK/batch.ticks"
echo "$TICKS_BEFORE" >> "$WORK/batch.ticks"
"$LOADGEN" "$A" "$TOKEN" 32 "$SECONDS_PER_RUN" 1000 "$WORK/single.json" > "$WORK/swap.json.out" &
LOAD_PID=$!
for _ in 1 2; do
    sleep "$(python3 -c "print($SECONDS_PER_RUN / 3)")"
    "$BIN" risk publish --db "$DB" --country KZ --by bench "$WORK/model.json" >> "$WORK/publish.log"
done
wait "$LOAD_PID"
LOAD_PID=""
grep -c "model.json version" "$WORK/publish.log" > /dev/null

python3 - "$WORK" <<'PY'
import json, sys, os
work = sys.argv[1]
s = json.load(open(os.path.join(work, "single.json.out")))
b = json.load(open(os.path.join(work, "batch.json.out")))
w = json.load(open(os.path.join(work, "swap.json.out")))
print("| run | requests/s | declarations/s | p50 / p99 / max ms | errors |")
print("|---|---|---|---|---|")
print(f"| single declarations at 1,000 req/s | {s['events_per_second']:,.0f} | {s['declarations_per_second']:,.0f} | "
      f"{s['p50_ms']:.1f} / {s['p99_ms']:.1f} / {s['max_ms']:.1f} | {s['errors']} |")
print(f"| batches of 5,000, 2 connections | {b['events_per_second']:,.1f} | {b['declarations_per_second']:,.0f} | "
      f"{b['p50_ms']:.0f} / {b['p99_ms']:.0f} / {b['max_ms']:.0f} | {b['errors']} |")
print(f"| single at 1,000 req/s, model published twice | {w['events_per_second']:,.0f} | {w['declarations_per_second']:,.0f} | "
      f"{w['p50_ms']:.1f} / {w['p99_ms']:.1f} / {w['max_ms']:.1f} | {w['errors']} |")
after, before = (int(t) for t in open(os.path.join(work, "batch.ticks")).read().split())
declarations = b["declarations_per_second"] * b["seconds"]
cpu_us = (after - before) / os.sysconf("SC_CLK_TCK") / declarations * 1e6
print(f"\nBatches: {cpu_us:.1f} µs of server CPU (user + system, /proc) per declaration answered.")
PY
