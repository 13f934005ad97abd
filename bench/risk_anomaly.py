"""Unsupervised risk scores on the KCS open data with the labels hidden (see risk-anomaly.sh).

Every engine fits on the 2020 declarations without their results and scores 2021 Q1; Pre@n,
Rec@n and AUC are computed here from the scores, by the definitions in PRODUCT.md. Random
selection finds non-compliance at the base rate, so Pre@n / base rate is the lift.
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from risk import precision_at  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--data", required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    train_csv = os.path.join(a.data, "df_syn_train_eng.csv")
    valid_csv = os.path.join(a.data, "df_syn_valid_eng.csv")
    train = pd.read_csv(train_csv)
    valid = pd.read_csv(valid_csv)
    y = valid["Fraud"].to_numpy()
    rows = []

    # SmartBorder: the labels are in the file but the anomaly model does not read them.
    model = os.path.join(a.work, "anomaly.json")
    t = time.perf_counter()
    subprocess.run([a.binary, "risk", "anomaly", "--data", train_csv, "--mapping", "kcs", "--model", model],
                   check=True, capture_output=True)
    seconds = time.perf_counter() - t
    subprocess.run([a.binary, "risk", "eval", "--model", model, "--data", valid_csv, "--mapping", "kcs",
                    "--json", os.path.join(a.work, "eval.json")], check=True, capture_output=True)
    sb = pd.read_json(os.path.join(a.work, "eval.json"), typ="series")
    rows.append(("SmartBorder anomaly model", sb["pre@5"], sb["pre@10"], sb["auc"], seconds))

    # scikit-learn: IsolationForest (100 trees of 256, its defaults) on the raw amounts, value
    # per kg and the codes as frequencies in 2020.
    def raw(df):
        x = pd.DataFrame(index=df.index)
        for c in ["Tax Rate", "Net Mass", "Item Price"]:
            x[c] = df[c]
        x["value_per_kg"] = df["Item Price"] / df["Net Mass"].where(df["Net Mass"] > 0)
        for c in ["Importer ID", "Declarant ID", "Seller ID", "HS6 Code", "Country of Origin", "Office ID"]:
            x["freq " + c] = df[c].map(train[c].value_counts()).fillna(0)
        return x.fillna(-1)

    t = time.perf_counter()
    forest = IsolationForest(random_state=1).fit(raw(train))
    seconds = time.perf_counter() - t
    s = -forest.score_samples(raw(valid))
    rows.append(("scikit-learn IsolationForest", precision_at(s, y, 5)[0], precision_at(s, y, 10)[0],
                 roc_auc_score(y, s), seconds))

    # A rule of thumb: the lower the value per kg against the HS6 median of 2020, the riskier.
    vpk = lambda d: d["Item Price"] / d["Net Mass"].where(d["Net Mass"] > 0)  # noqa: E731
    median = vpk(train).groupby(train["HS6 Code"]).median()
    ratio = (vpk(valid) / valid["HS6 Code"].map(median)).fillna(1.0).to_numpy()
    s = -np.log(np.maximum(ratio, 1e-12))
    rows.append(("value per kg below the HS6 median", precision_at(s, y, 5)[0], precision_at(s, y, 10)[0],
                 roc_auc_score(y, s), float("nan")))

    base = y.mean()
    print(f"KCS open data, labels hidden: fit on {len(train)} declarations (2020), scored {len(valid)} "
          f"(2021 Q1); base rate of non-compliance {base:.3f}.\n")
    print("| score | Pre@5% | Pre@10% | lift at 5% | AUC | fitting (s) |")
    print("|---|---|---|---|---|---|")
    for name, p5, p10, auc, secs in rows:
        fit = "-" if np.isnan(secs) else f"{secs:.2f}"
        print(f"| {name} | {p5:.3f} | {p10:.3f} | {p5 / base:.2f}x | {auc:.3f} | {fit} |")


if __name__ == "__main__":
    main()
