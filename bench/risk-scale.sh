#!/usr/bin/env bash
# Risk model capacity with no hand tuning, from 2,000 to 2,000,000 labelled declarations:
# SmartBorder's defaults against six fixed capacities (the best in hindsight) and LightGBM, on
# Master Trainer Programme risk worlds built to size. Usage: bench/risk-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
python3 -m pip install --quiet --disable-pip-version-check lightgbm pandas numpy scikit-learn
exec python3 bench/risk_scale.py --binary target/release/smartborder --work bench/work/risk-scale
