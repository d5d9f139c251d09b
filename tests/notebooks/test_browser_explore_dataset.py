"""explore_dataset.py in a real browser: the sliders change the camera images and the plot, the
tool buttons write new datasets."""

from __future__ import annotations

import pytest
from notebook_harness import (
    click,
    image_bytes,
    page_text,
    save_screenshot,
    serve,
    slider,
    ui_element,
    wait_for,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from lerobot_fn import data

PLOT = "signals over the episode"
CAMERAS = ("observation.images.top", "observation.images.left_wrist")


def _shown(driver) -> dict[str, bytes]:
    return {alt: image_bytes(driver, alt) for alt in (PLOT, *CAMERAS)}


@pytest.mark.timeout(180)
def test_sliders_change_cameras_and_plot(chromium, notebook_env, dataset_fixtures, tmp_path):
    dataset = dataset_fixtures / "aloha_sim_mini"  # two cameras, three episodes
    with serve(
        "explore_dataset.py", ["--dataset", str(dataset), "--output", str(tmp_path)], tmp_path, notebook_env
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

        # select episode 1 in the episode table, delete it into a new dataset
        table = ui_element(chromium, "table", "Select episodes")
        click(chromium, table.find_elements(By.CSS_SELECTOR, '[role="checkbox"]')[2])  # [0] is "select all"
        button = wait_for(lambda: ui_element(chromium, "button", "Delete episodes [1]"), "the delete button")
        click(chromium, button.find_element(By.CSS_SELECTOR, "button"))
        wait_for(lambda: "Wrote" in page_text(chromium), "the delete result")
        edited = data.open(tmp_path / "aloha_sim_mini_edited")
        assert edited.num_episodes == 2 and edited.num_frames == 40 + 33

        fraction = slider(chromium, "train fraction")  # 0.8 of 3 episodes: val would be empty
        click(chromium, fraction)
        for _ in range(3):
            fraction.send_keys(Keys.ARROW_LEFT)  # 0.65: train int(1.95) = 1 episode, val the other 2
        button = wait_for(lambda: ui_element(chromium, "button", "train [0] / val [1, 2]"), "the split plan")
        click(chromium, button.find_element(By.CSS_SELECTOR, "button"))
        wait_for(lambda: "val:" in page_text(chromium), "the split result")
        splits = tmp_path / "aloha_sim_mini_splits"
        assert [data.open(splits / k).num_episodes for k in ("train", "val")] == [1, 2]
