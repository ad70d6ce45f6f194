"""What a product manager does in the console, in a real headless browser (Playwright
driving Debian's chromium) against `tariff serve --demo --console-port` run as a process:
sign in with an author's token, open an offer, break a rule and see the checker's
diagnostic at its line, fix it, change a price, run the examples, save, simulate a quote and
a shadow rating, submit. A screenshot of each page lands in TARIFF_TEST_ARTIFACTS (default:
the test's tmp directory)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from tariff.demo import USAGE
from tariff.security.roles import Role
from tests.e2e.test_serve import tariff_command
from tests.support.secured import make_keys, token

CHROMIUM = Path(os.environ.get("TARIFF_CHROMIUM", "/usr/bin/chromium"))
STARTUP_SECONDS = 60

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"no chromium at {CHROMIUM} (apt-get install chromium)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, an author's token) of a served demo with token identities."""
    keys, ring = make_keys(tmp_path)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TARIFF_")}
    command = [*tariff_command(), "serve", "--demo", "--port", "0", "--token-keys", str(keys)]
    proc = subprocess.Popen(
        [*command, "--console-port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            urllib.request.urlopen(f"{base}/login", timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the console did not come up on {base}")
            time.sleep(0.2)
    try:
        yield base, token(ring, "pm-alice", Role.AUTHOR)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    where = Path(os.environ.get("TARIFF_TEST_ARTIFACTS", tmp_path)) / "console"
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    return where


def test_a_product_manager_edits_checks_simulates_and_submits(
    console: tuple[str, str], shots: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, author = console
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(15_000)

        page.goto(f"{base}/")  # not signed in: the sign-in page
        page.fill("textarea[name=token]", author)
        page.click("button[type=submit]")
        expect(page.locator("#principal")).to_have_text("pm-alice")
        page.screenshot(path=shots / "1-catalog.png", full_page=True)

        page.click("#product-list >> text=mobile_39")  # open an offer: prices from the plan
        expect(page.locator("#prices")).to_contain_text("39.00")
        expect(page.locator("#rates")).to_contain_text("0.15 CNY / 1 min")
        page.screenshot(path=shots / "2-offer.png", full_page=True)

        page.click("#files >> text=products/mobile_39.tariff >> nth=0")
        expect(page.locator(".cm-content")).to_contain_text("一证最多办理")
        expect(page.locator("#diagnostics li.none")).to_be_visible()  # first check: clean

        # Break a rule by typing: `customer.age` -> `customer.agee` on line 9.
        page.evaluate(
            """() => {
              const view = window.tariffEditor.view;
              const text = view.state.doc.toString();
              const at = text.indexOf("customer.age <") + "customer.age".length;
              view.focus();
              view.dispatch({selection: {anchor: at}});
            }"""
        )
        page.keyboard.type("e")
        diagnostic = page.locator("#diagnostics li.error").first
        expect(diagnostic).to_contain_text("9:10 error unknown-name")
        expect(diagnostic).to_contain_text("did you mean `customer.age`?")
        expect(page.locator(".cm-lintRange-error").first).to_have_text("customer.agee")
        page.screenshot(path=shots / "3-diagnostic.png", full_page=True)

        page.keyboard.press("Backspace")  # fix it
        expect(page.locator("#diagnostics li.none")).to_be_visible()

        # Raise the SMS rate in the editor, then format, run the examples, save.
        page.evaluate(
            """() => {
              const t = window.tariffEditor.getText();
              window.tariffEditor.setText(t.replace("0.10 per message", "0.12   per message"));
            }"""
        )
        page.click("#format")
        expect(page.locator("#status")).to_have_text("formatted")
        assert "rate * *: 0.12 per message" in page.evaluate("window.tariffEditor.getText()")
        page.click("#run-examples")
        expect(page.locator("#examples tbody tr")).to_have_count(14)
        expect(page.locator("#examples tr.passed")).to_have_count(14)
        page.click("#save")
        expect(page.locator("#status")).to_contain_text("rev 2")
        page.screenshot(path=shots / "4-editor.png", full_page=True)

        page.goto(f"{base}/simulate")  # a quote on the draft
        page.select_option("select[name=area]", "GD_SZ")
        page.select_option("select[name=channel]", "hall")
        page.fill("input[name=offers]", "mobile_39")
        page.click("#quote-form button[type=submit]")
        expect(page.locator("#quote-totals")).to_contain_text("39.00")
        expect(page.locator("#quote-totals")).to_contain_text("20.00")
        page.screenshot(path=shots / "5-quote.png", full_page=True)

        page.set_input_files("input[name=usage]", USAGE)  # shadow rating: draft vs live
        page.click("#shadow-form button[type=submit]")
        expect(page.locator("#shadow-summary")).to_contain_text("B = draft")
        row = page.locator("#shadow-offer tr", has_text="mobile_39")
        expect(row).to_have_count(1)
        difference = row.locator("td").nth(4).inner_text()
        gained = Decimal(difference)  # each of mobile_39's billed SMS costs 0.02 more
        assert gained > 0, difference
        assert gained % Decimal("0.02") == 0, difference
        expect(page.locator("#chart svg rect").first).to_be_visible()
        page.screenshot(path=shots / "6-shadow.png", full_page=True)

        page.goto(f"{base}/review?lang=zh")  # submit, in Chinese
        page.click("#submit")
        expect(page.locator("#done")).to_have_text("submitted by pm-alice")
        expect(page.locator("h1")).to_have_text("审核与发布")
        page.click("#approve")  # an author may not approve: deny by default
        expect(page.locator("#error")).to_contain_text("needs the role 'approver'")
        page.screenshot(path=shots / "7-review.png", full_page=True)
        browser.close()
    assert len(list(shots.glob("*.png"))) == 7
