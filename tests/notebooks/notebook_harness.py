"""Notebook test harness (helpers; the fixtures are in conftest.py): notebooks run headless as subprocesses, served by `marimo run` on a free
localhost port and driven in one shared headless Chromium (Debian's chromium + chromium-driver).

Every subprocess gets its own process group with SIGINT at its default, its output goes to a
log file read on failure, it is waited for with a deadline, its whole group is killed at the end,
and the tests check that nothing of it is left running.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO_ROOT / "notebooks"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,2400",
)
#: set to a folder (e.g. docs/img) to also keep each browser test's screenshot there
SCREENSHOT_DIR_ENV = "LEROBOT_FN_NOTEBOOK_SCREENSHOTS"


def _default_sigint() -> None:  # runs in the child before exec
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def kill_group(proc: subprocess.Popen, grace_s: float = 10.0) -> None:
    """SIGTERM the process group, SIGKILL it after `grace_s`, and wait until none of it is left."""
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 10.0)):
        if group_alive(proc.pid):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                pass
        try:
            proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            continue
        deadline = time.monotonic() + wait_s
        while group_alive(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if not group_alive(proc.pid):
            return
    assert not group_alive(proc.pid), f"processes of group {proc.pid} ({proc.args}) survived SIGKILL"


def tail(path: Path, lines: int = 40) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def staged(notebook: Path, tmp_path: Path) -> Path:
    """A copy of `notebook` in `tmp_path` to run: marimo writes session caches into __marimo__/
    beside the notebook file, and the tests leave the checkout untouched."""
    copy = tmp_path / "notebooks" / notebook.name
    copy.parent.mkdir(exist_ok=True)
    copy.write_bytes(notebook.read_bytes())
    return copy


def spawn(args: list[str], *, cwd: Path, env: dict, out) -> subprocess.Popen:
    """`python args...` in its own process group (session) with SIGINT at its default, output to `out`."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=_default_sigint,  # noqa: PLW1509 - no threads spawn processes here
    )


def run_notebook_process(args: list[str], *, cwd: Path, env: dict, log: Path, timeout_s: float) -> int:
    """Run `python args...` to completion in its own process group; its exit status."""
    with open(log, "wb") as out:
        proc = spawn(args, cwd=cwd, env=env, out=out)
        try:
            return proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{' '.join(args)} did not finish within {timeout_s} s; output:\n{tail(log)}")
        finally:
            kill_group(proc, grace_s=2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def marimo_app(
    notebook: Path, args: list[str], *, cwd: Path, env: dict, log: Path, startup_s: float = 60.0
) -> Iterator[str]:
    """Serve `notebook` with `marimo run` on a free localhost port; yields its URL."""
    port = free_port()
    cmd = [
        "-m", "marimo", "run", "--headless", "--no-token",
        "--host", "127.0.0.1", "--port", str(port), str(notebook), "--", *args,
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = spawn(cmd, cwd=cwd, env=env, out=out)
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + startup_s
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"marimo run exited with {proc.returncode} before serving:\n{tail(log)}")
                try:
                    with urllib.request.urlopen(url, timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        pytest.fail(f"marimo run did not serve {url} within {startup_s} s:\n{tail(log)}")
                    time.sleep(0.2)
            yield url
        finally:
            kill_group(proc)
    assert not group_alive(proc.pid)


def serve(name: str, args: list[str], tmp_path: Path, env: dict):
    """`marimo_app` for `notebooks/<name>` (a staged copy), its log in `tmp_path/marimo.log`."""
    return marimo_app(
        staged(NOTEBOOKS / name, tmp_path), args, cwd=tmp_path, env=env, log=tmp_path / "marimo.log"
    )


def page_text(driver) -> str:
    """The visible text of the whole page."""
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def chromium_processes(profile: Path) -> list[int]:
    """PIDs whose command line names this test session's Chromium profile."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if str(profile).encode() in cmdline:
                pids.append(int(entry.name))
    return pids


def wait_for(predicate: Callable[[], object], what: str, timeout_s: float = 60.0):
    """Poll `predicate` until it returns something truthy; fail naming `what` after the deadline."""
    deadline = time.monotonic() + timeout_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - the page is still rendering
            last_error = e
        time.sleep(0.2)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what} (last error: {last_error!r})")


def image_bytes(driver, alt: str) -> bytes:
    """The bytes of the image with this alt text (a data: URL or a file the server serves)."""
    from selenium.webdriver.common.by import By

    src = driver.find_element(By.CSS_SELECTOR, f'img[alt="{alt}"]').get_attribute("src")
    if src.startswith("data:"):
        return base64.b64decode(src.split(",", 1)[1])
    with urllib.request.urlopen(src, timeout=10) as r:
        return r.read()


def ui_element(driver, tag: str, label: str):
    """The shadow root of the marimo UI element `<marimo-{tag}>` whose label contains `label`."""
    from selenium.webdriver.common.by import By

    for element in driver.find_elements(By.CSS_SELECTOR, f"marimo-{tag}"):
        rendered = json.loads(element.get_attribute("data-label") or '""') or ""  # the label as HTML
        if label in rendered:
            return element.shadow_root
    raise LookupError(f"no marimo-{tag} labelled {label!r}")


def slider(driver, label: str):
    """The draggable thumb of the marimo slider labelled exactly `label`."""
    from selenium.webdriver.common.by import By

    return ui_element(driver, "slider", f">{label}<").find_element(By.CSS_SELECTOR, '[role="slider"]')


def click(driver, element) -> None:
    """Scroll `element` to the middle of the window (clear of sticky headers), then click it."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def save_screenshot(driver, tmp_path: Path, name: str) -> Path:
    """Screenshot into the pytest tmp dir. With $LEROBOT_FN_NOTEBOOK_SCREENSHOTS set (e.g. to
    docs/img), also a small copy there for the docs: 900 px wide, 128 colours."""
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    target = os.environ.get(SCREENSHOT_DIR_ENV)
    if target:
        from PIL import Image

        Path(target).mkdir(parents=True, exist_ok=True)
        image = Image.open(path).convert("RGB")
        small = image.resize((900, round(image.height * 900 / image.width)), Image.LANCZOS)
        small.quantize(colors=128).save(Path(target) / path.name, optimize=True)
    return path
