#!/usr/bin/env bash
# Risk models trained on what was inspected: SmartBorder vs LightGBM on the Korea Customs Service
# open data with 10% of the 2020 labels (at random, or chosen by a biased past policy) and with
# all of them, three seeds each; evaluated on 2021 Q1. Usage: bench/risk-partial.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
python3 -m pip install --quiet --disable-pip-version-check lightgbm pandas numpy scikit-learn
exec python3 bench/risk_partial.py --binary target/release/smartborder --work bench/work/risk-partial \
    --data ../shared/data/kcs-customs
