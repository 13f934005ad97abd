#!/usr/bin/env python3
"""The README's screenshots of the console: starts `smartborder demo` (release build) in a
temporary directory, signs in as the demo's people in headless Chromium (Debian's chromium and
chromium-driver, driven with Selenium: `pip install selenium`), and saves the main pages under
docs/screenshots/. Stops the demo it started by its PID.
Usage: bench/screenshots.py [KCS_DATA_DIR]
"""
import os
import re
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "screenshots")
PORT = 18199


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--window-size=1280,900", "--lang=en-US"]:
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main():
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="smartborder-screenshots.")
    env = dict(os.environ)
    if len(sys.argv) > 1:
        env["SMARTBORDER_KCS_DATA"] = sys.argv[1]
    demo = subprocess.Popen(
        [os.path.join(ROOT, "target/release/smartborder"), "demo", "--consignments", "50000",
         "--listen", f"127.0.0.1:{PORT}", "--dir", work],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=work)
    passwords = {}
    try:
        for line in demo.stdout:
            m = re.match(r"\s+(\S+\.\S+)\s+(\S{20})\s+\S+$", line)
            if m:
                passwords[m.group(1)] = m.group(2)
            if line.startswith("listening on"):
                break
        base = f"http://127.0.0.1:{PORT}"

        def shoot(login, pages, lang="en"):
            b = browser()
            try:
                b.get(base + "/console/sign-in")
                if lang != "en":
                    b.get(base + f"/console/language?lang={lang}")
                b.find_element(By.ID, "login").send_keys(login)
                b.find_element(By.ID, "password").send_keys(passwords[login])
                b.find_element(By.CSS_SELECTOR, "form.card button[type=submit]").click()
                time.sleep(0.5)
                for path, name in pages:
                    if path is None:
                        # The first movement of the page before: its timeline.
                        b.find_element(By.CSS_SELECTOR, "#movements tbody a").click()
                    elif isinstance(path, list):
                        # Links followed from the page before, by CSS selector.
                        for selector in path:
                            b.find_element(By.CSS_SELECTOR, selector).click()
                            time.sleep(0.7)
                    else:
                        b.get(base + path)
                    time.sleep(0.7)
                    if name is None:
                        continue  # a page on the way to the next one
                    b.save_screenshot(os.path.join(OUT, f"{name}.png"))
                    print("saved", name)
            finally:
                b.quit()

        shoot("corridor.coordinator", [("/console/corridor", "corridor")])
        shoot("kz.supervisor", [("/console/movements", "movements"), ("/console/trs", "studies")])
        shoot("az.officer", [("/console/arrivals", "pre-arrival")], lang="ru")
        shoot("kz.analyst", [("/console/risk", "risk-profiles"), ("/console/risk#model-card", "model-card")])
        shoot("ge.officer", [("/console/movements?status=released_for_transit", "ge-board"),
                             (None, "movement")])
        shoot("kz.trainer", [("/console/training", "training"),
                             (["#courses-delivered tbody a"], "cohort"),
                             ("/console/training/programme", "programme")])
        shoot("az.officer", [("/console/training", None),
                             (["#courses-attended tbody a", "#my-exercises tbody a"], "exercise")],
              lang="ru")
    finally:
        demo.terminate()
        demo.wait()


if __name__ == "__main__":
    main()
