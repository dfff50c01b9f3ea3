"""Make docs/dashboard.png from a running server with the demo data.

    make run                                    # or: manage.py seed_demo on any database
    .venv/bin/python docs/screenshot.py [http://127.0.0.1:8000]

Logs in as the demo crm_admin in Debian's Chromium (headless) and saves the dashboard.
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).with_name("dashboard.png")

with sync_playwright() as playwright:
    browser = playwright.chromium.launch(
        executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
    )
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{BASE}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "demo-admin")
    page.click("input[type=submit]")
    page.wait_for_url(f"{BASE}/admin/")
    page.goto(f"{BASE}/admin/engagement/dashboard/")
    page.wait_for_selector("#panel-activity svg")
    page.screenshot(path=str(OUT), full_page=True)
    browser.close()
print(f"saved {OUT}")
