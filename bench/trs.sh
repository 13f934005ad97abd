#!/usr/bin/env bash
# TRS benchmark: SmartBorder vs DuckDB vs Polars on the same synthetic study (default 10 million
# consignments), CSV and Parquet. Prints wall time, peak memory and ratios; checks the numbers agree.
# Usage: bench/trs.sh [CONSIGNMENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-10000000}"
cargo build --release --quiet
python3 -m pip install --quiet --disable-pip-version-check duckdb polars pyarrow
exec python3 bench/trs.py --consignments "$N" --binary target/release/smartborder --work bench/work
