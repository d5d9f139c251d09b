"""explore_dataset.py in a real browser: the sliders change the camera images and the plot."""

from __future__ import annotations

import pytest
from notebook_harness import NOTEBOOKS, image_bytes, marimo_app, save_screenshot, slider, wait_for
from selenium.webdriver.common.keys import Keys

PLOT = "signals over the episode"
CAMERAS = ("observation.images.top", "observation.images.left_wrist")


def _shown(driver) -> dict[str, bytes]:
    return {alt: image_bytes(driver, alt) for alt in (PLOT, *CAMERAS)}


@pytest.mark.timeout(180)
def test_sliders_change_cameras_and_plot(chromium, notebook_env, dataset_fixtures, tmp_path):
    dataset = dataset_fixtures / "aloha_sim_mini"  # two cameras, three episodes
    with marimo_app(
        NOTEBOOKS / "explore_dataset.py",
        ["--dataset", str(dataset), "--output", str(tmp_path)],
        cwd=tmp_path,
        env=notebook_env,
        log=tmp_path / "marimo.log",
    ) as url:
        chromium.get(url)
        first = wait_for(lambda: _shown(chromium), "the camera images and the plot")
        assert first[CAMERAS[0]] != first[CAMERAS[1]]  # both cameras, side by side

        frame = slider(chromium, "frame")
        frame.click()
        for _ in range(10):
            frame.send_keys(Keys.ARROW_RIGHT)
        assert wait_for(lambda: slider(chromium, "frame").get_attribute("aria-valuenow") == "10", "frame 10")
        later = wait_for(
            lambda: (s := _shown(chromium)) and all(s[k] != first[k] for k in s) and s,
            "every camera and the plot to change after moving the frame slider",
        )

        episode = slider(chromium, "episode")
        episode.click()
        episode.send_keys(Keys.END)  # the last episode
        assert wait_for(
            lambda: slider(chromium, "episode").get_attribute("aria-valuenow") == "2", "episode 2"
        )
        assert wait_for(
            lambda: slider(chromium, "frame").get_attribute("aria-valuenow") == "0", "frame reset"
        )
        wait_for(
            lambda: (s := _shown(chromium)) and all(s[k] != later[k] and s[k] != first[k] for k in s),
            "every camera and the plot to change after moving the episode slider",
        )
        shot = save_screenshot(chromium, tmp_path, "explore_dataset")
        assert shot.stat().st_size > 10_000
