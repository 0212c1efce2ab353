"""Drive the sandbox page in Debian's headless Chromium with Selenium: run the sandbox in a background thread, open
the page, act as its people the way a person clicks, wait for the bot. Shared by the browser test and the
screenshot tool; Selenium is a dev dependency, so nothing in `bot/` imports this."""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from bot.sandbox.app import Sandbox

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--lang=vi-VN",
)


def missing() -> str | None:
    """Why no browser can be driven here, or None when Chromium, chromedriver and Selenium are all present."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            return f"{path} not found: install Debian's {package} package (apt-get install {package})"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install the dev extra (selenium)"
    return None


class SandboxThread:
    """The sandbox on its own event loop in a thread, so blocking Selenium calls never stall the bot."""

    def __init__(self, data_dir: Path) -> None:
        self.sandbox = Sandbox(data_dir)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="sandbox", daemon=True)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._thread.start()
        return self.run(self.sandbox.start(host, port), timeout=60)

    def run(self, coroutine: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the sandbox's loop and wait for its result."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    def stop(self) -> None:
        try:
            self.run(self.sandbox.stop())
            self.run(_cancel_the_rest())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()


_SCROLL = """
const box = document.getElementById('messages');
const focus = arguments[0];
box.scrollTop = box.scrollHeight;
if (focus) {
  const rows = Array.from(box.querySelectorAll('.row')).filter(r => r.innerText.includes(focus));
  const row = rows[rows.length - 1];
  if (row) {
    const top = row.offsetTop;  // .messages is positioned, so this is from the top of its content
    const fits = row.offsetHeight <= box.clientHeight - 12;
    box.scrollTop = fits ? top + row.offsetHeight - box.clientHeight + 12 : top - 8;
  }
}
"""


async def _cancel_the_rest() -> None:
    """Cancel what is still waiting (the page's long polls) so the loop closes clean."""
    current = asyncio.current_task()
    rest = [t for t in asyncio.all_tasks() if t is not current]
    for task in rest:
        task.cancel()
    await asyncio.gather(*rest, return_exceptions=True)


class Browser:
    """The sandbox page in headless Chromium, with the few gestures a person makes."""

    def __init__(self, url: str, *, width: int = 1280, height: int = 900, timeout: float = 20.0) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.url = url
        self.timeout = timeout
        self._profile = tempfile.TemporaryDirectory(prefix="chibo-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for flag in (
            *CHROME_FLAGS,
            f"--user-data-dir={self._profile.name}",
            f"--window-size={width},{height}",
        ):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
        self.driver.set_page_load_timeout(timeout)

    def close(self) -> None:
        try:
            self.driver.quit()
        finally:
            self._profile.cleanup()

    # -- waiting ----------------------------------------------------------------------------------------------

    def wait(self, ready: Callable[[], Any], what: str, timeout: float | None = None) -> Any:
        """Poll `ready()` until it returns something truthy; fail naming `what`."""
        from selenium.common.exceptions import StaleElementReferenceException

        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                result = ready()
            except StaleElementReferenceException:  # the page re-rendered the chat under us
                result = None
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}; the chat shows:\n{self.chat_text()[-1500:]}"
                )
            time.sleep(0.1)

    def chat_text(self) -> str:
        return str(self.driver.execute_script("return document.getElementById('messages').innerText"))

    def bot_texts(self) -> list[str]:
        return list(
            self.driver.execute_script(
                "return Array.from(document.querySelectorAll('.msg.bot')).map(e => e.innerText)"
            )
        )

    def wait_bot(self, needle: str, timeout: float | None = None, *, after: int = 0) -> int:
        """Wait for a bot message containing `needle` among the messages from index `after`; its index."""

        def found() -> int | None:
            texts = self.bot_texts()
            return next((i + 1 for i in range(after, len(texts)) if needle in texts[i]), None)

        return int(self.wait(found, f"a bot message with {needle!r}", timeout)) - 1

    def bot_text(self, needle: str, timeout: float | None = None, *, after: int = 0) -> str:
        """Wait for a bot message containing `needle` (from index `after`) and return all its text."""

        def found() -> str | None:
            return next((t for t in self.bot_texts()[after:] if needle in t), None)

        return str(self.wait(found, f"a bot message with {needle!r}", timeout))

    # -- acting -----------------------------------------------------------------------------------------------

    def open(self) -> None:
        self.driver.get(self.url)
        self.wait(lambda: self._css("#people .person"), "the list of people")

    def pick(self, name: str) -> None:
        """Choose who you are in the side panel."""
        self._click(f'#people .person[data-name="{name}"]')
        self.wait(
            lambda: name in self.driver.find_element("id", "chat-who").text and self._css("#messages > *"),
            f"the chat of {name}",
        )

    def send_sample(self, key: str) -> None:
        self._click("#sample-button")
        self._click(f'#samples button[data-sample="{key}"]')

    def press(self, label: str) -> None:
        """Tap the newest inline button with this label."""
        self._click(f'.inline-button[data-label="{label}"]', last=True)

    def type(self, text: str) -> None:
        from selenium.webdriver.common.keys import Keys

        box = self.driver.find_element("id", "text")
        box.clear()
        box.send_keys(text, Keys.ENTER)

    def send_photo(self, path: Path) -> None:
        """Attach a photo as the 🖼️ menu does (the file input is hidden behind it)."""
        self._upload("photo-input", path)

    def send_file(self, path: Path) -> None:
        self._upload("file-input", path)

    def share_contact(self) -> None:
        """Tap Telegram's «📱 Gửi số điện thoại» button under the text box."""
        self._click("#keyboard .key")

    def submit_form(self) -> None:
        """Send the Zalo OA's information form (name and phone), the newest one in the chat."""
        self._click(".info-form .form-submit", last=True)

    def file_names(self) -> list[str]:
        """The names on the file cards of the bot's messages (files sent natively, not as links)."""
        return list(
            self.driver.execute_script(
                "return Array.from(document.querySelectorAll('.msg.bot .file .fname'))"
                ".map(e => e.firstChild.textContent)"
            )
        )

    def current(self) -> tuple[str, str]:
        """Whose chat is open (the header line) and the platform it shows."""
        return (
            self.driver.find_element("id", "chat-who").text,
            self.driver.find_element("id", "platform-name").text,
        )

    def invite_code(self, name: str) -> str:
        """The invite code the side panel shows for someone who has not joined."""
        return str(
            self.wait(lambda: self._person(name).get_attribute("data-invite"), f"{name}'s invite code")
        )

    def css(self, selector: str) -> list[Any]:
        return self._css(selector)

    def travel(self, step: str) -> str:
        before = self.driver.find_element("id", "clock").text
        self._click(f'#travel button[data-step="{step}"]')
        return str(
            self.wait(
                lambda: (t := self.driver.find_element("id", "clock").text) != before and t, "the clock"
            )
        )

    def screenshot_phone(self, path: Path, *, focus: str | None = None) -> None:
        """The phone only, scrolled to the newest message, or so that the newest message containing `focus`
        (with its buttons) ends at the bottom of the chat."""
        from selenium.webdriver.common.action_chains import ActionChains

        # Park the pointer on the header so no button shows its hover colour in the picture.
        ActionChains(self.driver).move_to_element(self.driver.find_element("id", "chat-who")).perform()
        self.driver.execute_script(_SCROLL, focus)
        time.sleep(0.4)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.find_element("id", "phone").screenshot(str(path))

    def screenshot_page(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(path))

    def _upload(self, input_id: str, path: Path) -> None:
        field = self.driver.find_element("id", input_id)
        self.driver.execute_script("arguments[0].hidden = false", field)
        field.send_keys(str(path.resolve()))
        self.driver.execute_script("arguments[0].hidden = true", field)

    def _person(self, name: str) -> Any:
        return self.driver.find_element("css selector", f'#people .person[data-name="{name}"]')

    def _css(self, selector: str) -> list[Any]:
        return list(self.driver.find_elements("css selector", selector))

    def _click(self, selector: str, *, last: bool = False) -> None:
        from selenium.common.exceptions import (
            ElementClickInterceptedException,
            StaleElementReferenceException,
        )

        def click() -> bool:
            found = self._css(selector)
            if not found:
                return False
            target = found[-1] if last else found[0]
            try:
                self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", target)
                target.click()
            except (StaleElementReferenceException, ElementClickInterceptedException):
                return False
            return True

        self.wait(click, f"something to click at {selector}")
