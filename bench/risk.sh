#!/usr/bin/env bash
# Risk-model benchmark: SmartBorder vs LightGBM on the Korea Customs Service open data
# (train 2020, valid 2021 Q1). Prints Pre@n, AUC, training time and scoring throughput, with
# ratios. Usage: bench/risk.sh [REPLICAS]  (the valid split is replicated REPLICAS times for the
# throughput run; default 100, about 0.8 million declarations)
set -euo pipefail
cd "$(dirname "$0")/.."
REPLICAS="${1:-100}"
cargo build --release --quiet
python3 -m pip install --quiet --disable-pip-version-check lightgbm pandas numpy scikit-learn
exec python3 bench/risk.py --binary target/release/smartborder --work bench/work/risk \
    --data ../shared/data/kcs-customs --replicas "$REPLICAS"
