#!/usr/bin/env bash
# NCTS Phase 5 message checking: SmartBorder (`smartborder ncts check`) against the validators a
# user would otherwise pick, Python xmlschema (XSD 1.1, pure Python) and lxml (libxml2, C), on a
# generated corpus of CC015C and CC007C messages, a tenth of them broken. Prints schema load time,
# messages per second and MB per second, with ratios, and checks that the three agree on which
# messages are valid.
# Usage: bench/ncts.sh [MESSAGES]   (default 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES="${1:-2000}"
cargo build --release --quiet
python3 -m pip install --quiet --disable-pip-version-check xmlschema lxml
exec python3 bench/ncts.py --binary target/release/smartborder --xsd crates/ncts/xsd \
    --work bench/work/ncts --messages "$MESSAGES"
