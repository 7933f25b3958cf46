"""Real browser tests: Debian's chromium driven by Playwright against uvicorn serving the ASGI app."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from config.embedded import free_port
from tests.conftest import TEST_PASSWORD, mfa_test_device, subprocess_database_url, totp_code

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]


def _test_database_env() -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = subprocess_database_url()
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker):
    """uvicorn serving config.asgi (HTTP + websockets) against the test database."""
    with django_db_blocker.unblock():
        env = _test_database_env()
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--lifespan", "off", "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/accounts/login/", timeout=2)
            break
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(process.stdout.read().decode()) from None
            time.sleep(0.2)
    yield base.replace("127.0.0.1", "localhost")
    process.terminate()
    process.wait(20)


@pytest.fixture(autouse=True, scope="package")
def _orm_beside_playwright():
    """Playwright's sync API runs an event loop in this thread; the ORM calls in these tests (and the
    database flush after each) are ordinary synchronous code, so Django's async-safety guard does not apply.
    Only for this package: nothing after it inherits the variable."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="module")
def browser():
    """Per module: Playwright's event loop must not outlive the e2e tests in this thread."""
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (make install-system installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone-sized screen
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def in_thread(function, *args, **kwargs):
    """Run a service outside Playwright's event loop (a broadcast uses async_to_sync, refused inside a loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def password_step(page, user) -> None:
    """Fill and send the login form the page is on."""
    page.fill("#id_username", user.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")


def needs_code(user) -> bool:
    """For a role that needs MFA, make sure the user has an authenticator (as if enrolled earlier;
    tests/accounts/test_mfa.py and test_session_and_mfa.py cover enrolment) before the password step."""
    from accounts.selectors import mfa_required

    if not mfa_required(user=user):
        return False
    mfa_test_device(user)
    return True


def code_step(page, user) -> None:
    """On the code page after the password: enter the current code of the user's authenticator."""
    if needs_code(user):
        page.wait_for_url(re.compile(r".*/accounts/mfa/.*"))
        page.fill("#id_token", totp_code(mfa_test_device(user)))
        page.click("form:has(#id_token) button[type=submit]")  # not the header's sign-out button


@pytest.fixture
def login(asgi_server):
    def sign_in(page, user):
        needs_code(user)
        page.goto(f"{asgi_server}/accounts/login/")
        password_step(page, user)
        code_step(page, user)
        page.wait_for_url(f"{asgi_server}/")
        return page

    return sign_in


@pytest.fixture(autouse=True)
def _fast_password_hashing():
    """Overrides the suite-wide fast hasher: the uvicorn process checks passwords with the real settings."""


# --- Content-Security-Policy violations (tests/e2e/test_content_security_policy.py, and any page test) ---

LISTEN = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportCspViolation(`${event.violatedDirective} blocked ${event.blockedURI || "inline"} `
                            + `on ${document.location.pathname} (${event.sourceFile}:${event.lineNumber})`);
});
"""


@pytest.fixture
def violations(page):
    """Every violation any page reports (its event, and Chromium's console message), across navigations."""
    found: list[str] = []

    def report(text: str) -> None:
        found.append(text)

    def console(message) -> None:
        if "Content Security Policy" in message.text:
            found.append(message.text)

    page.expose_function("reportCspViolation", report)
    page.add_init_script(LISTEN)
    page.on("console", console)
    return found
