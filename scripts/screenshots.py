"""Regenerate docs/screenshots/: the main pages at a desk (1440x900) and a phone (390x844) size.

Loads the demo data into a temporary data folder, starts ``octopushx serve`` on a free port, signs
in as the demo owner and photographs each page with Playwright and the system's chromium. Run it
with ``make screenshots``; it leaves nothing behind but the PNGs.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess  # nosec B404 - runs our own command line
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots"
CHROMIUM = os.environ.get("OCTOPUSHX_CHROMIUM", "/usr/bin/chromium")
SIZES = [(1440, 900), (390, 844)]
EMAIL, PASSWORD = "owner@acme.test", "demo-pass-2026"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

# (file name, path or a finder that picks the path from the page it names)
PAGES: list[tuple[str, str]] = [
    ("home", "/"),
    ("contacts", "/crm/"),
    ("contact", f"first:/crm/:/crm/contacts/{UUID}/"),
    ("deal-board", "/crm/board/"),
    ("deal-form", "/crm/deals/new/"),
    ("calls", "/calls/"),
    ("call", f"first:/calls/:/calls/{UUID}/"),
    ("shield-audit", "/shield/audit/"),
    ("privacy-requests", "/shield/privacy/"),
    ("members", "/settings/members/"),
]


def _octopushx() -> list[str]:
    script = Path(sys.executable).with_name("octopushx")
    return [str(script)] if script.exists() else [sys.executable, "-m", "octopushx.cli"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=5):  # noqa: S310 - our local server
                return
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                sys.exit("octopushx serve did not start")
            time.sleep(0.3)


def _sign_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")
    boxes = page.locator("input[name=accept]")
    if boxes.count():  # the first sign-in accepts the legal documents
        for box in boxes.all():
            box.check()
        page.get_by_role("button", name="Accept and continue").click()
        page.wait_for_load_state("networkidle")


def _resolve(page, target: str) -> str | None:
    """A plain path, or ``first:LIST:PATTERN``: the first link on LIST whose path matches PATTERN."""
    if not target.startswith("first:"):
        return target
    _, listing, pattern = target.split(":", 2)
    page.goto(listing)
    for href in page.locator("a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        if re.fullmatch(pattern, href.split("?")[0]):
            return href
    return None


def shoot(base: str) -> list[Path]:
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for width, height in SIZES:
            context = browser.new_context(base_url=base, viewport={"width": width, "height": height})
            page = context.new_page()
            _sign_in(page)
            for name, target in PAGES:
                path = _resolve(page, target)
                if path is None:
                    print(f"skipped {name}: nothing to show at {target.split(':')[1]}", file=sys.stderr)
                    continue
                page.goto(path)
                page.wait_for_load_state("networkidle")
                file = OUT / f"{name}-{width}.png"
                page.screenshot(path=str(file))
                written.append(file)
            context.close()
        browser.close()
    return written


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data_dir = Path(tempfile.mkdtemp(prefix="octopushx-screenshots-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OCTOPUSHX_") and k != "DATABASE_URL"},
        "OCTOPUSHX_DATA_DIR": str(data_dir),
        "OCTOPUSHX_DEMO_CALLS": os.environ.get("OCTOPUSHX_DEMO_CALLS", "4"),
        "OCTOPUSHX_RATE_LIMITS": "0",
        "OCTOPUSHX_LOG_LEVEL": "WARNING",
    }
    server = None
    try:
        print("loading the demo data (speech synthesis for the demo calls takes a minute)…")
        subprocess.run([*_octopushx(), "demo"], env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603 # nosec B603 - our own command line
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(  # noqa: S603 # nosec B603 - our own command line
            [*_octopushx(), "serve", "--port", str(port), "--no-worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_ready(base, server)
        files = shoot(base)
        total = sum(f.stat().st_size for f in files)
        print(f"wrote {len(files)} screenshots to {OUT.relative_to(REPO)} ({total / 1e6:.1f} MB)")
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
