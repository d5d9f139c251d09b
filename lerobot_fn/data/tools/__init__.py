"""Dataset tools: each reads its inputs and writes a new, valid LeRobotDataset v3.0.

delete_episodes, split, merge, add_feature, remove_feature, images_to_video, recompute_stats,
convert_v21, dataset_info and push are plain functions; `lerobot-run` exposes each as a
`dataset.*` job (lerobot_fn/jobs/dataset.py).
"""

from lerobot_fn.data.tools.delete import delete_episodes
from lerobot_fn.data.tools.edit_features import add_feature, remove_feature
from lerobot_fn.data.tools.info import dataset_info
from lerobot_fn.data.tools.merge import merge
from lerobot_fn.data.tools.split import fractions_to_episodes, split

__all__ = [
    "add_feature",
    "dataset_info",
    "delete_episodes",
    "fractions_to_episodes",
    "merge",
    "remove_feature",
    "split",
]

from lerobot_fn.data.push import push  # noqa: E402
from lerobot_fn.data.tools.convert_v21 import convert_v21  # noqa: E402
from lerobot_fn.data.tools.images_to_video import images_to_video  # noqa: E402
from lerobot_fn.data.tools.recompute_stats import recompute_stats  # noqa: E402

__all__ += ["convert_v21", "images_to_video", "push", "recompute_stats"]
