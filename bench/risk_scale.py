"""Risk model capacity from 2,000 to 2,000,000 labelled declarations, with no hand tuning.
Run through bench/risk-scale.sh.

Data: Master Trainer Programme risk worlds (`smartborder mtp scenario build`, the definition of
scenarios/risk-kz-imports.toml: ordinary trade, 2% noise, and the five planted patterns,
the decoy included), 13 months with every result known. The first 12 months are the training
history; the 13th is the test month, every result known. Of the history, only `labelled`
declarations keep their result (drawn at random with the seed); the others are context. Worlds:

  labelled     declarations per month   history      share labelled
  2,000        1,667                    ~20,000      ~10%
  20,000       16,667                   ~205,000     ~10%
  200,000      166,667                  ~2,050,000   ~10%
  2,000,000    200,000                  ~2,460,000   ~81%

For each: SmartBorder with its defaults (the capacity chosen by validation inside the training
period, as `risk train` does without --trees / --min-child); SmartBorder at each of six fixed
capacities (trees 30, 100, 300 x leaves of at least 20, 200 declarations; smoothing 3): the
best of them on the test month is what hand tuning could have found in hindsight; and
LightGBM on the labelled rows (300 trees, 63 leaves, native categoricals, as in
bench/risk_partial.py). Pre@5%, Pre@10% as PRODUCT.md defines them (strictly above the
percentile), AUC (Mann-Whitney, ties 1/2). SmartBorder's training time is as `risk train`
prints it (from loaded data to trained model, with the features of every declaration), its
peak memory that of the whole `risk train` process; LightGBM's time from a loaded frame of
the labelled rows."""

import argparse
import os
import re
import subprocess
import sys
import time

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from risk import precision_at  # noqa: E402

# (labelled declarations in training, declarations per month, label seeds)
SCALES = [
    (2_000, 1_667, [1, 2, 3]),
    (20_000, 16_667, [1, 2, 3]),
    (200_000, 166_667, [1]),
    (2_000_000, 200_000, [1]),
]
GRID = [(trees, leaf) for trees in (30, 100, 300) for leaf in (20, 200)]
CATEGORICAL = ["Office", "Declarant", "Importer", "Seller", "HS Code", "Origin", "Dispatch", "hs2", "hs4"]


def world(binary, work, per_month):
    """Builds (once) a 13-month world with every result, and splits it: history, test month."""
    folder = os.path.join(work, f"world-{per_month}")
    history = os.path.join(folder, "pack", "history.csv")
    if not os.path.exists(history):
        os.makedirs(folder, exist_ok=True)
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        text = open(os.path.join(root, "scenarios", "risk-kz-imports.toml")).read()
        for key, value in [("history_months", 13), ("later_months", 1),
                           ("declarations_per_month", per_month), ("inspection_rate", 1.0)]:
            text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        definition = os.path.join(folder, "world.toml")
        open(definition, "w").write(text)
        subprocess.run([binary, "mtp", "scenario", "build", definition, "--seed", "7",
                        "--out", os.path.join(folder, "pack"), "--key", os.path.join(folder, "key.json")],
                       check=True, capture_output=True)
    frame = pd.read_csv(history, dtype={"Declaration ID": str, "HS Code": str})
    months = sorted(frame["Date"].str[:7].unique())
    test_month = months[-1]
    is_test = (frame["Date"].str[:7] == test_month).to_numpy()
    return folder, frame[~is_test].reset_index(drop=True), frame[is_test].reset_index(drop=True)


def run_measured(cmd):
    """Runs a command; returns its standard output and its own peak resident memory (MiB)."""
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed ({process.returncode}): {err}")
    return out, usage.ru_maxrss / 1024


def lgb_features(df, categories=None):
    x = pd.DataFrame(index=df.index)
    for c in ["Quantity", "Net Mass (kg)", "Customs Value (USD)", "Duty Rate (%)", "Taxes (USD)"]:
        x[c] = df[c]
    x["value_per_kg"] = df["Customs Value (USD)"] / df["Net Mass (kg)"].where(df["Net Mass (kg)"] > 0)
    date = pd.to_datetime(df["Date"])
    x["month"] = date.dt.month
    x["weekday"] = date.dt.day_of_week
    codes = df.assign(hs2=df["HS Code"].str[:2], hs4=df["HS Code"].str[:4])
    for c in CATEGORICAL:
        col = codes[c].astype(object).where(codes[c].notna(), "").astype(str)
        cats = categories[c] if categories is not None else pd.Index(col.unique())
        x[c] = pd.Categorical(col.where(col.isin(cats)), categories=cats)
    return x


def metrics(scores, labels):
    return {
        "pre5": precision_at(scores, labels, 5)[0],
        "pre10": precision_at(scores, labels, 10)[0],
        "auc": roc_auc_score(labels, scores),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    threads = os.cpu_count()
    rows = []
    for labelled, per_month, seeds in SCALES:
        folder, history, test = world(a.binary, a.work, per_month)
        mapping = os.path.join(folder, "pack", "mapping.toml")
        test_csv = os.path.join(folder, "test.csv")
        if not os.path.exists(test_csv):
            test.to_csv(test_csv, index=False)
        y_test = test["Non-compliant"].to_numpy()
        order = test["Declaration ID"]

        def score(model):
            out = os.path.join(folder, "scores.csv")
            subprocess.run([a.binary, "risk", "score", "--model", model, "--data", test_csv, "--mapping", mapping,
                            "--out", out, "--explain", "0"], check=True, capture_output=True)
            return pd.read_csv(out, dtype={"declaration": str}).set_index("declaration")["score"].loc[order].to_numpy()

        for seed in seeds:
            rng = np.random.default_rng(seed)
            keep = np.zeros(len(history), bool)
            keep[rng.choice(len(history), labelled, replace=False)] = True
            train = history.copy()
            train["Non-compliant"] = train["Non-compliant"].astype("Int64").where(keep)
            train["Revenue (USD)"] = train["Revenue (USD)"].where(keep)
            train_csv = os.path.join(folder, f"train_{labelled}_{seed}.csv")
            train.to_csv(train_csv, index=False)
            train_cmd = [a.binary, "risk", "train", "--data", train_csv, "--mapping", mapping, "--seed", str(seed)]

            model = os.path.join(folder, f"model_{labelled}_{seed}.json")
            out, peak = run_measured(train_cmd + ["--model", model])
            seconds = float(re.search(r"in ([0-9.]+) s ->", out).group(1))
            chosen = re.search(r"^\s+\*\s+(\S+)\s+(\d+)\s+(\d+)", out, re.M)
            trees = int(re.search(r"features, (\d+) trees", out).group(1))
            capacity = (f"m {chosen.group(1)}, leaf {chosen.group(2)}, {trees} trees" if chosen
                        else f"defaults, {trees} trees")
            default = metrics(score(model), y_test)

            fixed = []
            for n_trees, leaf in GRID:
                fixed_model = os.path.join(folder, f"model_{labelled}_{seed}_{n_trees}_{leaf}.json")
                run_measured(train_cmd + ["--model", fixed_model, "--trees", str(n_trees), "--min-child", str(leaf)])
                fixed.append(((n_trees, leaf), metrics(score(fixed_model), y_test)))
            best = max(fixed, key=lambda f: f[1]["pre5"])
            worst = min(fixed, key=lambda f: f[1]["pre5"])

            inspected = history[keep]
            params = {"objective": "binary", "verbose": -1, "num_threads": threads, "seed": seed, "num_leaves": 63}
            t = time.perf_counter()
            x = lgb_features(inspected)
            booster = lgb.train(params, lgb.Dataset(x, inspected["Non-compliant"].to_numpy()), num_boost_round=300)
            lgb_seconds = time.perf_counter() - t
            categories = {c: x[c].cat.categories for c in CATEGORICAL}
            lightgbm = metrics(booster.predict(lgb_features(test, categories), num_threads=threads), y_test)

            row = {
                "labelled": labelled, "declarations": len(history), "test": len(test), "seed": seed,
                "capacity": capacity, "default": default, "seconds": seconds, "peak": peak,
                "best": best, "worst": worst, "lightgbm": lightgbm, "lgb_seconds": lgb_seconds,
            }
            rows.append(row)
            print(f"{labelled:,} labelled, seed {seed}: SmartBorder ({capacity}) Pre@5 {default['pre5']:.3f} "
                  f"AUC {default['auc']:.4f} in {seconds:.2f} s, {peak:.0f} MiB; fixed best "
                  f"{best[1]['pre5']:.3f} {best[0]}, worst {worst[1]['pre5']:.3f} {worst[0]}; "
                  f"LightGBM Pre@5 {lightgbm['pre5']:.3f} AUC {lightgbm['auc']:.4f} in {lgb_seconds:.2f} s",
                  flush=True)

    lines = [
        f"Risk worlds (seed 7); training on 12 months, tested on the 13th (every result); {threads} threads.",
        "Fixed capacities: trees x leaf of " + ", ".join(f"{t}x{l}" for t, l in GRID) + " (smoothing 3).",
        "",
        "| labelled (declarations in the history; test month) | label seed | SmartBorder defaults: chosen | "
        "Pre@5% | Pre@10% | AUC | training (s) | peak memory (MiB) | best fixed capacity in hindsight, Pre@5% | "
        "worst fixed, Pre@5% | LightGBM Pre@5% | LightGBM Pre@10% | LightGBM AUC | LightGBM training (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        d, b, w, g = r["default"], r["best"], r["worst"], r["lightgbm"]
        lines.append(
            f"| {r['labelled']:,} ({r['declarations']:,}; {r['test']:,}) | {r['seed']} | {r['capacity']} | "
            f"{d['pre5']:.3f} | {d['pre10']:.3f} | {d['auc']:.4f} | {r['seconds']:.2f} | {r['peak']:.0f} | "
            f"{b[1]['pre5']:.3f} ({b[0][0]}x{b[0][1]}) | {w[1]['pre5']:.3f} ({w[0][0]}x{w[0][1]}) | "
            f"{g['pre5']:.3f} | {g['pre10']:.3f} | {g['auc']:.4f} | {r['lgb_seconds']:.2f} |"
        )
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(a.work, "results.md"), "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    main()
