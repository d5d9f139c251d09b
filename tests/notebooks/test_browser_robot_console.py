"""robot_console.py in a real browser on the simulated SO-101 arms: live joints, teleoperation
start/stop, and the calibration walk-through."""

from __future__ import annotations

import json

import pytest
from notebook_harness import click, page_text, save_screenshot, serve, ui_element, wait_for
from selenium.webdriver.common.by import By


def _joints(driver) -> dict[str, tuple[float, float]]:
    """{joint: (follower, leader)} from the live joints table."""
    table = ui_element(driver, "table", "live joints")
    rows = {}
    for row in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
        cells = [c.text for c in row.find_elements(By.CSS_SELECTOR, "td")]
        cells = [c for c in cells if c.strip()]
        if len(cells) >= 3:
            rows[cells[-3]] = (float(cells[-2]), float(cells[-1]))
    return rows


@pytest.mark.timeout(180)
def test_teleoperation_and_calibration(chromium, notebook_env, tmp_path):
    env = {**notebook_env, "HF_LEROBOT_HOME": str(tmp_path / "home")}  # fresh calibration files
    with serve("robot_console.py", [], tmp_path, env) as url:
        chromium.get(url)

        def text():
            return page_text(chromium)

        first = wait_for(lambda: len(_joints(chromium)) == 6 and _joints(chromium), "six joints")
        # the simulated leader moves by itself; without teleoperation the follower stays put
        wait_for(
            lambda: (now := _joints(chromium)) and now["shoulder_pan"][1] != first["shoulder_pan"][1],
            "leader",
        )
        follower = {j: f for j, (f, _) in _joints(chromium).items()}

        click(
            chromium, ui_element(chromium, "switch", "teleoperation").find_element(By.CSS_SELECTOR, "button")
        )
        wait_for(lambda: "teleoperating" in text(), "teleoperation to start")

        def following():
            now = _joints(chromium)
            moved = any(abs(now[j][0] - follower[j]) > 1 for j in now)
            return moved and all(abs(f - lead) < 10 for f, lead in now.values())

        wait_for(following, "the follower to follow the leader")
        click(
            chromium, ui_element(chromium, "switch", "teleoperation").find_element(By.CSS_SELECTOR, "button")
        )
        wait_for(lambda: "Joints (connected" in text(), "teleoperation to stop")

        click(
            chromium,
            ui_element(chromium, "button", "Start calibration").find_element(By.CSS_SELECTOR, "button"),
        )
        wait_for(lambda: "Step 1." in text(), "step 1 (centre the arm)")
        click(chromium, ui_element(chromium, "button", "Next step").find_element(By.CSS_SELECTOR, "button"))
        wait_for(
            lambda: "Step 2." in text() and ui_element(chromium, "table", "ranges"), "step 2 with live ranges"
        )
        click(chromium, ui_element(chromium, "button", "Next step").find_element(By.CSS_SELECTOR, "button"))
        wait_for(lambda: "Calibrated; saved to" in text(), "the calibration to finish")
        save_screenshot(chromium, tmp_path, "robot_console")
    saved = tmp_path / "home" / "calibration" / "teleoperators" / "so_leader" / "console_leader.json"
    calibration = json.loads(saved.read_text())
    assert set(calibration) == set(first) and all(
        c["range_min"] < c["range_max"] for c in calibration.values()
    )
