"""Fixtures of the notebook tests: the subprocess environment and one shared headless Chromium."""

from __future__ import annotations

import os
import signal
import time

import pytest
from notebook_harness import CHROMEDRIVER, CHROMIUM, CHROMIUM_FLAGS, chromium_processes


@pytest.fixture(scope="session")
def notebook_env(tmp_path_factory) -> dict[str, str]:
    """Environment for notebook subprocesses: offline Hub, a session-wide LeRobot cache (the
    sample dataset and sample runs are generated once), one thread per math library."""
    env = dict(os.environ)
    env.update(
        HF_HUB_OFFLINE="1",
        HF_LEROBOT_HOME=str(tmp_path_factory.mktemp("lerobot_home")),
        OMP_NUM_THREADS="1",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    """One headless Chromium (through chromium-driver) shared by the browser tests."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not found: the notebook browser tests need Debian's chromium and "
            "chromium-driver (`make browser`, or apt-get install chromium chromium-driver)",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tmp_path_factory.mktemp("chromium_profile")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    service = Service(str(CHROMEDRIVER), log_output=str(profile.parent / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        deadline = time.monotonic() + 60  # Chromium's processes take a while to exit on a loaded machine
        while chromium_processes(profile) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = chromium_processes(profile)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        assert not left, f"Chromium processes {left} outlived driver.quit()"
