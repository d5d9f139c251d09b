"""Listing and explaining jobs, and reading the hardware specs, load no serial, SDK or camera code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = {"serial", "scservo_sdk", "dynamixel_sdk", "cv2", "torch"}
JOBS = ("find_port", "find_cameras", "setup_motors", "calibrate", "teleoperate", "record", "replay", "run_policy")


def loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    return {m.split(".")[0] for m in json.loads(out.stdout.strip().splitlines()[-1])}


def test_list_and_explain_of_every_hardware_job_stay_light():
    code = "from lerobot_fn.cli import main\nmain(['--list'])\n" + "".join(
        f"main(['--explain', {job!r}])\n" for job in JOBS)
    assert not loaded_after(code) & HEAVY


def test_dry_run_of_the_hardware_specs_validates_without_hardware_code():
    specs = sorted(str(p) for p in (REPO / "specs").glob("*.toml")
                   if p.name.startswith(("so101_", "koch_", "sim_")))
    assert len(specs) >= 12
    code = "from lerobot_fn.cli import main\n" + "".join(
        f"assert main([{s!r}, '--dry-run']) == 0, {s!r}\n" for s in specs)
    assert not loaded_after(code) & HEAVY
