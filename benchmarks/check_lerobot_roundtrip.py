"""Manual compatibility check: lerobot-fn saves each fixture policy, LeRobot 0.6.1 loads the saved
directory (in its own venv, as a subprocess) and replays the fixture's inputs.

    .venv/bin/python benchmarks/check_lerobot_roundtrip.py [--lerobot-python .lerobot-venv/bin/python]

Prints one line per policy with LeRobot's max abs difference to the recorded actions. Then a
policy made from scratch here (`policies.from_config`: fresh random weights, processors built from
a dataset's meta/stats.json, none of LeRobot's files copied) is saved, and LeRobot's actions on a
random batch are compared with ours.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from lerobot_fn import policies

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "policies"
WORKER = Path(__file__).with_name("lerobot_policy_worker.py")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lerobot-python", default=str(ROOT / ".lerobot-venv" / "bin" / "python"))
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for fixture in sorted(p for p in FIXTURES.iterdir() if (p / "pretrained_model").is_dir()):
            saved = policies.save(policies.load(fixture / "pretrained_model"), Path(tmp) / fixture.name)
            proc = subprocess.run(
                [args.lerobot_python, str(WORKER), "check", str(saved), str(fixture / "io.safetensors"),
                 str(fixture / "io.json")],
                capture_output=True, text=True,
            )
            lines = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
            if proc.returncode != 0 or not lines:
                print(f"{fixture.name}: LeRobot failed to load the saved checkpoint:\n{proc.stderr[-3000:]}")
                ok = False
                continue
            result = json.loads(lines[-1][len("RESULT "):])
            worst = max(result["predict_chunk_max_abs_diff"], result["select_action_max_abs_diff"])
            ok &= worst <= 1e-4
            print(f"{fixture.name}: LeRobot loaded lerobot-fn's save; {json.dumps(result)}")
        ok &= fresh_policy_check(args.lerobot_python, Path(tmp))
    return 0 if ok else 1


def fresh_policy_check(lerobot_python: str, tmp: Path) -> bool:
    fixture = FIXTURES / "act_aloha_mini"
    config = policies.load(fixture / "pretrained_model").config
    stats = json.loads((ROOT.parent / "shared" / "fixtures" / "datasets" / "aloha_sim_mini" / "meta" /
                        "stats.json").read_text())
    torch.manual_seed(7)
    policy = policies.from_config(config, stats=stats, device="cpu")
    saved = policies.save(policy, tmp / "fresh_act")
    g = torch.Generator().manual_seed(1)
    obs = {name: (torch.rand if f.type.value == "VISUAL" else torch.randn)((3, *f.shape), generator=g)
           for name, f in config.input_features.items()}
    save_file(obs, str(tmp / "obs.safetensors"))
    proc = subprocess.run([lerobot_python, str(WORKER), "predict", str(saved), str(tmp / "obs.safetensors"),
                           str(tmp / "out.safetensors")], capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"fresh ACT policy: LeRobot failed to load it:\n{proc.stderr[-3000:]}")
        return False
    theirs = load_file(str(tmp / "out.safetensors"))["action"]
    from lerobot_fn.process import from_flat_dict

    ours = policies.predict_chunk(policy, from_flat_dict(obs, batch_size=[3]))
    diff = (ours - theirs).abs().max().item()
    print(f"fresh ACT policy saved by lerobot-fn: LeRobot predict_action_chunk max abs diff {diff:.3g} "
          f"(actions scale {theirs.abs().max().item():.3g})")
    return diff <= 1e-4 * max(1.0, theirs.abs().max().item())


if __name__ == "__main__":
    sys.exit(main())
