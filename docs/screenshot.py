"""Make docs/dashboard.png: the engagement dashboard on the demo data, in Debian's Chromium.

    .venv/bin/python docs/screenshot.py                  # scratch SQLite + seed_demo + a server
    .venv/bin/python docs/screenshot.py --url http://127.0.0.1:8000   # a running demo server

Without --url it builds a scratch database (/tmp/crm_screenshot.sqlite3: migrate, seed_demo,
which also builds the dashboard rollups), serves it on a free local port, logs in as the demo
crm_admin (headless Chromium), saves the full dashboard at 1400 px wide, and stops the server.
"""

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).with_name("dashboard.png")
CHROMIUM = "/usr/bin/chromium"
DATABASE = Path("/tmp/crm_screenshot.sqlite3")
USER, PASSWORD = "admin", "demo-admin"  # seed_demo's crm_admin


def manage(*args, env):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, server: subprocess.Popen, seconds: int = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"the server stopped (exit {server.returncode})")
        try:
            urllib.request.urlopen(f"{url}/admin/login/", timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    sys.exit(f"no answer from {url} within {seconds}s")


def shoot(base: str, out: Path = OUT):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/admin/login/")
        page.fill("#id_username", USER)
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{base}/admin/")
        page.goto(f"{base}/admin/engagement/dashboard/")
        expect(page.locator("section.crm-panel svg").first).to_be_visible()
        page.screenshot(path=str(out), full_page=True)
        browser.close()
    print(f"saved {out} ({out.stat().st_size // 1024} KB)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server with the demo data (default: start one)")
    options = parser.parse_args()
    if options.url:
        shoot(options.url.rstrip("/"))
        return
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{DATABASE}",
        "DJANGO_SETTINGS_MODULE": "crm.settings.local",
        "DJANGO_DEBUG": "true",  # runserver serves the static files
        "CELERY_BROKER_URL": "",
    }
    DATABASE.unlink(missing_ok=True)
    manage("migrate", "-v0", env=env)
    manage("seed_demo", env=env)
    address = f"127.0.0.1:{free_port()}"
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", address],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://{address}", server)
        shoot(f"http://{address}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
