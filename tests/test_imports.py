"""Import hygiene: the core never pulls in an optional extra, and listing jobs stays light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXTRAS = ("gym_pusht", "gym_aloha", "mujoco", "libero", "metaworld", "scservo_sdk", "dynamixel_sdk", "serial",
          "cv2", "transformers", "torchcodec")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_public_api_imports_no_optional_extra():
    code = "import lerobot_fn as lf\nfor name in lf.__all__[:-1]: getattr(lf, name)\nimport lerobot_fn.cli"
    loaded = _modules_after(code)
    assert {"lerobot_fn.data", "lerobot_fn.policies", "lerobot_fn.process", "lerobot_fn.specs"} <= loaded
    assert not {m.split(".")[0] for m in loaded} & set(EXTRAS)
    assert not any(m == "hardware" or m.startswith("hardware.") for m in loaded)


def test_importing_the_package_and_its_specs_does_not_import_torch():
    loaded = _modules_after("import lerobot_fn, lerobot_fn.specs, lerobot_fn.cli")
    assert "torch" not in loaded
