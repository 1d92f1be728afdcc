"""The web chat page in a real browser: headless Chromium driven by Selenium.

Types a message, watches the reply stream in, stops it, resets the memory, and
saves a screenshot to <build>/test-artifacts/web-chat.png. Needs Debian's
chromium, chromium-driver and python3-selenium (scripts/install-deps.sh).
"""
import re
import shutil
import time
from pathlib import Path

import pytest

from conftest import TINY_CONFIG, Server, bit_llama_path, make_model

webdriver = pytest.importorskip(
    "selenium.webdriver",
    reason="python3-selenium is not installed (scripts/install-deps.sh installs it)")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

# A model that never ends a reply by itself: its end-of-text id (299) lies past
# the byte-level tokenizer's 257 tokens, so it is never sampled and the reply
# streams until Stop. Wider than the tiny model so tokens come at a pace a page
# renders (hundreds per second, not tens of thousands).
ENDLESS_CONFIG = dict(TINY_CONFIG, hidden_dim=256, intermediate_dim=512, ttt_dim=32,
                      num_layers=4, eos_token_id=299)

LAST_REPLY_JS = """
const replies = document.querySelectorAll('#log .msg.assistant');
return replies.length ? replies[replies.length - 1].lastChild.textContent : null;
"""


def browser_paths():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        pytest.skip("chromium and chromedriver are not installed (Debian packages chromium and "
                    "chromium-driver; scripts/install-deps.sh installs them)")
    return chromium, driver


@pytest.fixture(scope="module")
def endless_server(tmp_path_factory):
    model = make_model(tmp_path_factory.mktemp("endless") / "endless", seed=5,
                       config=ENDLESS_CONFIG, timeout=120)
    instance = Server(model, "--max-tokens-limit", 10000000)
    yield instance
    assert instance.stop() == 0


@pytest.fixture
def browser():
    chromium, driver_path = browser_paths()
    options = Options()
    options.binary_location = chromium
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900", "--no-first-run", "--disable-extensions"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(10)
    try:
        yield driver
    finally:
        driver.quit()


def artifact_path(name):
    """<build>/test-artifacts/<name>, next to the build's bin/ holding bit_llama."""
    directory = Path(bit_llama_path()).resolve().parents[1] / "test-artifacts"
    directory.mkdir(parents=True, exist_ok=True)
    return directory / name


def metric(server, name):
    text = server.get("/metrics")[2]
    return float(re.search(rf"^{name} (\S+)$", text, re.M).group(1))


def test_chat_streams_stops_and_resets_memory(browser, endless_server):
    server = endless_server
    wait = WebDriverWait(browser, 15, poll_frequency=0.05)
    element = browser.find_element
    browser.get(f"http://127.0.0.1:{server.port}/")
    wait.until(lambda d: "parameters" in element(By.ID, "facts").text)
    assert element(By.ID, "mName").text == "endless"
    session = element(By.ID, "session").get_attribute("value")
    assert session.startswith("web-")
    wait.until(lambda d: element(By.ID, "memTokens").text == "0")

    max_tokens = element(By.ID, "max_tokens")
    max_tokens.clear()
    max_tokens.send_keys("5000000")
    stop_at = element(By.ID, "stop").location
    element(By.ID, "input").send_keys("Hello <b>there</b>", Keys.ENTER)

    # The user's message is shown as text, and the reply streams in: it grows
    # while the Stop button is live.
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#log .msg.user"))
    assert element(By.CSS_SELECTOR, "#log .msg.user").text.endswith("Hello <b>there</b>")
    first = wait.until(lambda d: d.execute_script(LAST_REPLY_JS))
    wait.until(lambda d: len(d.execute_script(LAST_REPLY_JS)) > len(first) + 20)
    assert element(By.ID, "stop").is_enabled() and not element(By.ID, "send").is_enabled()
    # The streaming reply scrolls inside the log: the Stop button stays where it was.
    for _ in range(5):
        assert element(By.ID, "stop").location == stop_at
        time.sleep(0.05)

    element(By.ID, "stop").click()
    wait.until(lambda d: element(By.ID, "status").text == "stopped")
    assert not element(By.ID, "stop").is_enabled() and element(By.ID, "send").is_enabled()
    stopped = browser.execute_script(LAST_REPLY_JS)
    # The server noticed the closed stream and stopped generating.
    deadline = time.time() + 10
    while metric(server, "bit_ttt_active_generations") != 0:
        assert time.time() < deadline, "generation still running after Stop"
        time.sleep(0.05)
    time.sleep(0.3)
    assert browser.execute_script(LAST_REPLY_JS) == stopped
    absorbed = int(wait.until(
        lambda d: re.fullmatch(r"[1-9]\d*", element(By.ID, "memTokens").text)).group(0))
    assert absorbed == server.get(f"/v1/sessions/{session}")[2]["n_tokens"]
    assert absorbed > len("Hello <b>there</b>")  # the prompt and the streamed reply

    element(By.ID, "memReset").click()
    wait.until(lambda d: element(By.ID, "memTokens").text == "0")
    assert "reset: done (0 tokens in memory)" in element(By.ID, "status").text
    assert server.get(f"/v1/sessions/{session}")[2]["n_tokens"] == 0

    screenshot = artifact_path("web-chat.png")
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10000
