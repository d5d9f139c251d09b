"""Episodes/s of a PushT evaluation, ours (`lerobot-run specs/eval_pusht.toml`) vs `lerobot-eval`
(LeRobot 0.6.1 in .lerobot-venv, `lerobot[pusht]==0.6.1`), same checkpoint, same seeds, each with its
default env count (LeRobot: floor(0.7 x cores) async envs; ours: 5 per core, in two lanes) and 10 videos.

    .venv/bin/python benchmarks/bench_eval.py --episodes 50 --repeats 1 \
        --policy ../shared/fixtures/policies/diffusion_pusht_mini/pretrained_model

Also compares the scores: pc_success and the per-episode rewards on the same seeds (Diffusion's
noise comes from LeRobot's global RNG there and from per-episode generators here, so rewards
agree in distribution, not episode by episode; a deterministic policy agrees exactly).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LEROBOT_EVAL = REPO / ".lerobot-venv" / "bin" / "lerobot-eval"


def _run(cmd: list[str], timeout: float) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False,
                         start_new_session=True, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return time.perf_counter() - start


def ours(policy: str, episodes: int, out: Path) -> dict:
    wall = _run([sys.executable, "-m", "lerobot_fn.cli", str(REPO / "specs" / "eval_pusht.toml"),
                 "--set", f"policy.path={policy!r}", "--set", f"eval.n_episodes={episodes}",
                 "--set", f"run.output_dir={str(out)!r}"], 3600)
    info = json.loads((out / "eval_info.json").read_text())
    return {"wall_s": wall, "eval_s": info["overall"]["eval_s"], "pc_success": info["overall"]["pc_success"],
            "sum_rewards": [e["sum_reward"] for e in info["per_episode"]]}


def lerobot(policy: str, episodes: int, out: Path) -> dict:
    if not LEROBOT_EVAL.exists():
        sys.exit(f"{LEROBOT_EVAL} not found: create .lerobot-venv with lerobot[pusht]==0.6.1 (see README)")
    wall = _run([str(LEROBOT_EVAL), f"--policy.path={policy}", "--env.type=pusht", f"--eval.n_episodes={episodes}",
                 "--policy.device=cpu", "--seed=1000", f"--output_dir={out}"], 7200)
    info = json.loads((out / "eval_info.json").read_text())
    overall = info["overall"]
    rewards = [r for task in info["per_task"] for r in task["metrics"]["sum_rewards"]]
    return {"wall_s": wall, "eval_s": overall["eval_s"], "pc_success": overall["pc_success"], "sum_rewards": rewards}


SIDES = {"ours": ours, "lerobot": lerobot}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default=str(REPO.parent / "shared/fixtures/policies/diffusion_pusht_mini/"
                                                "pretrained_model"))
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--side", choices=("both", "ours", "lerobot"), default="both",
                        help="run one side only (to keep each quiet run under a few minutes)")
    args = parser.parse_args()
    sides = ("ours", "lerobot") if args.side == "both" else (args.side,)
    runs: dict[str, list[dict]] = {name: [] for name in sides}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for name in sides:
                runs[name].append(SIDES[name](args.policy, args.episodes, Path(tmp) / f"{name}{r}"))
            for name in runs:
                last = runs[name][-1]
                print(f"run {r} {name}: {args.episodes / last['eval_s']:.3f} episodes/s (eval {last['eval_s']:.1f} s, "
                      f"wall {last['wall_s']:.1f} s), pc_success {last['pc_success']:.1f}%, "
                      f"mean sum_reward {statistics.mean(last['sum_rewards']):.3f}", flush=True)
    eps = {k: statistics.median(args.episodes / r["eval_s"] for r in v) for k, v in runs.items()}
    print("median episodes/s: " + ", ".join(f"{k} {v:.3f}" for k, v in eps.items()))
    if len(eps) == 2:
        print(f"ratio {eps['ours'] / eps['lerobot']:.2f}x")
    print(json.dumps({"episodes_per_s": eps, "runs": runs}))


if __name__ == "__main__":
    main()
