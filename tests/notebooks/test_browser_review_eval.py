"""review_eval.py in a real browser: success per task, episodes worst or best first, videos that play."""

from __future__ import annotations

import pytest
from notebook_harness import click, page_text, save_screenshot, serve, ui_element, wait_for
from selenium.webdriver.common.by import By

from lerobot_fn import eval_results


@pytest.mark.timeout(240)
def test_episodes_and_videos(chromium, notebook_env, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_HOME", notebook_env["HF_LEROBOT_HOME"])  # the session's sample eval
    eval_dir = eval_results.sample_eval()
    info = eval_results.load_eval_info(eval_dir)
    worst = eval_results.episode_table(info, eval_dir)
    with serve("review_eval.py", ["--eval", str(eval_dir)], tmp_path, notebook_env) as url:
        chromium.get(url)

        def text():
            return page_text(chromium)

        def videos():
            return [v.get_attribute("src") for v in chromium.find_elements(By.TAG_NAME, "video")]

        wait_for(lambda: f"{info['overall']['pc_success']:.1f}% success" in text(), "the overall success")
        first = wait_for(lambda: len(videos()) == 3 and videos(), "three videos (worst first)")
        # the videos are real, playable mp4s: the browser decodes their first frame
        wait_for(
            lambda: all(
                chromium.execute_script(
                    "return arguments[0].readyState >= 2 && arguments[0].videoWidth > 0", v
                )
                for v in chromium.find_elements(By.TAG_NAME, "video")
            ),
            "the browser to decode the videos",
        )
        click(chromium, ui_element(chromium, "radio", "order").find_elements(By.CSS_SELECTOR, "button")[1])
        wait_for(lambda: videos() and videos() != first, "the best episodes' videos")
        best = eval_results.episode_table(info, eval_dir, best_first=True)
        assert best[0]["video"] != worst[0]["video"]
        save_screenshot(chromium, tmp_path, "review_eval")
