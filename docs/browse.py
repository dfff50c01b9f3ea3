"""Remake the after-screenshots of docs/screenshots/README.md (what browsing as each role found).

    .venv/bin/python docs/browse.py                                # scratch SQLite + seed_demo
    .venv/bin/python docs/browse.py --url http://127.0.0.1:8000    # a running demo server
    .venv/bin/python docs/browse.py --url ... --prefix before      # the same views, other names

Each view is reached as a person would (links and clicks from the index, never an id), so the
same run against an older build takes the matching before-screenshot. Viewport 1280x800.
The scratch database, port and server come from docs/screenshot.py.
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from screenshot import CHROMIUM, DATABASE, ROOT, free_port, manage, wait_until_up

OUT = Path(__file__).with_name("screenshots")
LOGINS = {"admin": "demo-admin", "rep": "demo-rep", "success": "demo-success"}


def _login(page, base, user):
    page.context.clear_cookies()
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", LOGINS[user])
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/")


def _show(page, selector):
    """Scroll so that `selector` starts near the top of the viewport."""
    page.locator(selector).first.evaluate("e => window.scrollTo(0, e.offsetTop - 90)")


def login_page(page, base):
    page.context.clear_cookies()
    page.goto(f"{base}/admin/login/")


def my_work(page, base):
    _login(page, base, "success")
    page.click("#link-my-work")


def revenue_share(page, base):
    _login(page, base, "success")
    page.goto(f"{base}/admin/engagement/dashboard/")
    _show(page, "#panel-comparison")


def plan_steps(page, base):
    _login(page, base, "success")
    page.goto(f"{base}/admin/engagement/actionplan/?status__exact=active")
    page.click("#result_list tbody tr th a")
    _show(page, "#steps-group")


def playbook_steps(page, base):
    _login(page, base, "admin")
    page.goto(f"{base}/admin/engagement/playbook/?q=Reactivation")
    page.click("#result_list tbody tr th a")
    _show(page, "#steps-group")


def rep_step(page, base):
    _login(page, base, "rep")
    page.goto(f"{base}/admin/engagement/actionstep/?status__exact=open")
    page.click("#result_list tbody tr:has(td.field-assignee:text-is('rep')) th a")


SHOTS = {
    "header": login_page,
    "my-work": my_work,
    "revenue-share": revenue_share,
    "plan-steps": plan_steps,
    "playbook-steps": playbook_steps,
    "rep-step": rep_step,
}


def shoot(base: str, prefix: str = "after"):
    from playwright.sync_api import sync_playwright

    OUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        for name, visit in SHOTS.items():
            visit(page, base)
            page.wait_for_load_state()
            out = OUT / f"{prefix}-{name}.png"
            page.screenshot(path=str(out))
            print(f"saved {out.relative_to(ROOT)} ({out.stat().st_size // 1024} KB)")
        browser.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server with the demo data (default: start one)")
    parser.add_argument("--prefix", default="after", help="file names: <prefix>-<view>.png")
    options = parser.parse_args()
    if options.url:
        shoot(options.url.rstrip("/"), options.prefix)
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
        shoot(f"http://{address}", options.prefix)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
