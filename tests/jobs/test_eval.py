"""The eval job through `lerobot-run`: LeRobot's diffusion_pusht_mini checkpoint on PushT, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "envs"))
from envs_testing import env_workers

pytestmark = pytest.mark.timeout(240)


def _command(*sets: str) -> list[str]:
    args = [sys.executable, "-m", "lerobot_fn.cli", str(REPO / "specs" / "eval_pusht.toml")]
    for s in sets:
        args += ["--set", s]
    return args


def _start(args: list[str], cwd: Path, stderr) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    previous = signal.signal(signal.SIGINT, signal.SIG_DFL)  # the child starts with SIGINT at its default
    try:
        return subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True,
                                start_new_session=True)
    finally:
        signal.signal(signal.SIGINT, previous)


def _finish(proc: subprocess.Popen, timeout: float) -> None:
    try:
        proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)


def test_lerobot_checkpoint_on_pusht_writes_eval_info_and_videos(tmp_path, policy_fixtures):
    checkpoint = policy_fixtures / "diffusion_pusht_mini" / "pretrained_model"
    log = tmp_path / "stderr.txt"
    with log.open("w") as err:
        proc = _start(_command(f"policy.path='{checkpoint}'", "eval.n_episodes=3", "eval.batch_size=2",
                               "eval.max_episodes_rendered=1", "env.options={episode_length=20}",
                               "run.output_dir='run'"), tmp_path, err)
        _finish(proc, 180)
    assert proc.returncode == 0, log.read_text()
    info = json.loads((tmp_path / "run" / "eval_info.json").read_text())
    assert info["policy"] == {"path": str(checkpoint), "type": "diffusion"}
    assert [e["seed"] for e in info["per_episode"]] == [1000, 1001, 1002]
    assert all(e["length"] == 20 and e["max_reward"] >= 0 for e in info["per_episode"])
    assert info["overall"]["n_episodes"] == 3 and 0 <= info["overall"]["pc_success"] <= 100
    video = tmp_path / "run" / "videos" / "pusht_0" / "eval_episode_0.mp4"
    assert [Path(tmp_path, p).resolve() for p in info["overall"]["video_paths"]] == [video.resolve()]
    assert video.stat().st_size > 0
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["pc_success"] == info["overall"]["pc_success"]
    assert "overall: pc_success" in log.read_text()


def test_ctrl_c_during_evaluation_exits_130_and_leaves_no_worker(tmp_path):
    log = tmp_path / "stderr.txt"
    with log.open("w") as err:
        # 4 envs: two lanes of 2, the second lane's rollout on its own thread (`lerobot_fn/envs/lanes.py`)
        proc = _start(_command("eval.n_episodes=50", "eval.batch_size=4", "run.output_dir='run'"), tmp_path, err)
        try:
            deadline = time.monotonic() + 120
            while len(env_workers(proc.pid)) < 4:  # the workers appear with the first reset
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "no env workers within 120 s:\n" + log.read_text()
                time.sleep(0.1)
            workers = env_workers(proc.pid)
            time.sleep(1.0)
            proc.send_signal(signal.SIGINT)
        finally:
            _finish(proc, 60)
    assert proc.returncode == 130, log.read_text()
    assert "interrupted" in log.read_text() and "Traceback" not in log.read_text()
    alive = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    assert alive == [], "env workers left behind after Ctrl-C"
    deadline = time.monotonic() + 60  # multiprocessing's resource tracker exits once its pipe closes (later under load)
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _group_alive(proc.pid), "a process of the run is left behind"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("run_table", ["", '[run]\ndevice = "cpu"\n'])
def test_the_seed_defaults_to_lerobots_1000_as_explain_says(tmp_path, run_table):
    from lerobot_fn.specs.explain import explain
    from lerobot_fn.specs.toml_io import load_spec

    spec = tmp_path / "eval.toml"
    spec.write_text(f'job = "eval"\n[policy]\npath = "random"\n{run_table}')
    assert load_spec(spec).spec.run.seed == 1000
    assert "run.seed: int, default 1000" in explain("eval")


def test_an_unknown_env_type_or_option_is_a_spec_error_at_its_key():
    """The spec only describes the env; the job resolves it and names the bad key, what is known, and a
    did-you-mean (lerobot-run renders it without a traceback, exit 2)."""
    from lerobot_fn.envs import config_from_table
    from lerobot_fn.specs import SpecError
    from lerobot_fn.specs.eval import EnvTable

    with pytest.raises(SpecError) as err:
        config_from_table(EnvTable(type="pushtt"), "run/spec.toml")
    assert "run/spec.toml" in str(err.value) and "env.type" in str(err.value)
    assert "'metaworld'" in str(err.value) and "did you mean 'pusht'?" in str(err.value)
    with pytest.raises(SpecError, match=r"eval\.env\.options.*episode_lenght.*episode_length"):
        config_from_table(EnvTable(type="pusht", options={"episode_lenght": 5}), "spec.toml", "eval.env")
    config = config_from_table(EnvTable(type="metaworld", task="reach-v3", options={"episode_length": 7}), "s")
    assert (config.type, config.task, config.episode_length) == ("metaworld", "reach-v3", 7)
