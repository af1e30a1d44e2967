"""Debian's headless Chromium driven by Selenium (nothing downloads a browser), and the few
moves a person makes on a Streamlit page: wait for text, type, click, take a picture."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WIDTH, HEIGHT = 1400, 1000


def start_chromium() -> webdriver.Chrome:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        raise RuntimeError(
            "Debian's chromium and chromium-driver are needed: run `make system-packages` "
            "(as root) or `sudo apt-get install chromium chromium-driver`"
        )
    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",  # root in CI
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={WIDTH},{HEIGHT}",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def page_text(driver: webdriver.Chrome) -> str:
    return str(driver.execute_script("return document.body.innerText"))


def wait_for(
    driver: webdriver.Chrome, ready: Callable[[str], bool], *, timeout_s: float = 20, what: str
) -> str:
    """The page's text once ``ready(text)`` holds (the page draws after each run)."""
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        try:
            text = page_text(driver)
        except WebDriverException:
            text = ""
        if ready(text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"the page never showed {what} in {timeout_s:g} s; it shows:\n{text}")


def wait_text(driver: webdriver.Chrome, *texts: str, timeout_s: float = 20) -> str:
    return wait_for(
        driver, lambda t: all(x in t for x in texts), timeout_s=timeout_s, what=repr(texts)
    )


def wait_gone(driver: webdriver.Chrome, text: str, *, timeout_s: float = 20) -> str:
    return wait_for(driver, lambda t: text not in t, timeout_s=timeout_s, what=f"no {text!r}")


def settle(driver: webdriver.Chrome, *, timeout_s: float = 20) -> None:
    """Until Streamlit has finished running the page (its "Running..." indicator is gone)."""
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while time.monotonic() < deadline:
        running = driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]')
        quiet = 0 if running else quiet + 1
        if quiet >= 3:
            return
        time.sleep(0.1)


def _retry(find: Callable[[], WebElement], act: Callable[[WebElement], None], timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            act(find())
            return
        except (StaleElementReferenceException, WebDriverException):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def button(driver: webdriver.Chrome, label: str) -> WebElement:
    return driver.find_element(By.XPATH, f"//button[normalize-space(.)={_quote(label)}]")


def click(driver: webdriver.Chrome, label: str, *, timeout_s: float = 20) -> None:
    """Click the button labelled ``label`` (once it is drawn and enabled)."""
    _retry(lambda: button(driver, label), lambda b: b.click(), timeout_s)


def field(driver: webdriver.Chrome, label: str) -> WebElement:
    """The text input or area whose label is ``label`` (Streamlit sets it as aria-label)."""
    return driver.find_element(
        By.XPATH, f"//input[@aria-label={_quote(label)}] | //textarea[@aria-label={_quote(label)}]"
    )


def type_into(driver: webdriver.Chrome, label: str, text: str, *, enter: bool = False) -> None:
    def act(element: WebElement) -> None:
        element.send_keys(Keys.CONTROL, "a")  # clear() passes React by: select and replace
        element.send_keys(Keys.BACKSPACE)
        element.send_keys(text)
        if enter:
            element.send_keys(Keys.ENTER)

    _retry(lambda: field(driver, label), act, 20)


def _quote(text: str) -> str:
    """An XPath string literal (labels here hold no double quote)."""
    assert '"' not in text, text
    return f'"{text}"'


def screenshot(driver: webdriver.Chrome, path: Path, *, height: int = 1500) -> None:
    """The page as a small PNG (a 128-colour palette keeps the repository small)."""
    from PIL import Image

    driver.set_window_size(WIDTH, height)
    time.sleep(0.5)
    settle(driver)
    png = driver.get_screenshot_as_png()
    driver.set_window_size(WIDTH, HEIGHT)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)


def choose(driver: webdriver.Chrome, label: str, option: str) -> None:
    """Pick the option of the select box labelled ``label`` whose text contains ``option``."""
    box = f'//div[@data-testid="stSelectbox"][.//label[normalize-space(.)={_quote(label)}]]'

    def act(element: WebElement) -> None:
        element.click()
        driver.find_element(By.XPATH, f"{box}//input").send_keys(option)
        listed = f"//*[@role='option'][contains(normalize-space(.), {_quote(option)})]"
        _retry(lambda: driver.find_element(By.XPATH, listed), lambda li: li.click(), 5)

    _retry(lambda: driver.find_element(By.XPATH, box), act, 20)


def navigate(driver: webdriver.Chrome, page: str) -> None:
    """Open ``page`` from the sidebar (the browser session, and its voter id, stay)."""
    link = f'//a[@data-testid="stSidebarNavLink"][normalize-space(.)={_quote(page)}]'
    _retry(lambda: driver.find_element(By.XPATH, link), lambda a: a.click(), 20)


def table_rows(driver: webdriver.Chrome) -> list[list[str]]:
    """The cells of every static table's body rows (read in one go: the page redraws)."""
    rows = driver.execute_script(
        "return Array.from(document.querySelectorAll('[data-testid=\"stTable\"] tbody tr'))"
        ".map(tr => Array.from(tr.querySelectorAll('th, td')).map(c => c.innerText.trim()))"
    )
    return [[str(c) for c in row] for row in rows or []]


def unlock_admin(driver: webdriver.Chrome, password: str) -> str:
    """Give the admin password in the sidebar (an admin's voter id is signed in)."""
    type_into(driver, "Admin password (to see flagged voters)", password)
    click(driver, "Unlock")
    text = wait_for(driver, lambda t: "Admin password" not in t, timeout_s=20, what="unlocked")
    settle(driver)
    return text
