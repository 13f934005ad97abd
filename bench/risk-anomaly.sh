#!/usr/bin/env bash
# A risk score without control results: SmartBorder's anomaly model (isolation forest over
# label-free features) against scikit-learn's IsolationForest on the raw columns and against a
# valuation rule of thumb (value per kg below the commodity's median), fitted on the KCS 2020
# declarations with their labels hidden and measured on 2021 Q1. Usage: bench/risk-anomaly.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
python3 -m pip install --quiet --disable-pip-version-check pandas numpy scikit-learn
exec python3 bench/risk_anomaly.py --binary target/release/smartborder --work bench/work/risk-anomaly \
    --data "${SMARTBORDER_KCS_DATA:-../shared/data/kcs-customs}"
