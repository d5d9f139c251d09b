"""A seeded, untrained LeRobot 0.6.1 ACT checkpoint with LIBERO's features, built with LeRobot's own
classes (ACTConfig, make_pre_post_processors, save_pretrained) so that both `lerobot-eval` and ours
load the same directory. For benchmarks/device_libero.sh (timing, not success: pc_success ~0).
    python make_libero_act.py OUT_DIR [HEIGHT WIDTH]"""

import sys

import torch
from lerobot.configs.types import FeatureType, NormalizationMode, PolicyFeature
from lerobot.policies.act.configuration_act import ACTConfig
from lerobot.policies.act.modeling_act import ACTPolicy
from lerobot.policies.factory import make_pre_post_processors

out = sys.argv[1]
h, w = (int(sys.argv[2]), int(sys.argv[3])) if len(sys.argv) > 3 else (360, 360)
torch.manual_seed(0)
config = ACTConfig(
    input_features={"observation.images.image": PolicyFeature(FeatureType.VISUAL, (3, h, w)),
                    "observation.images.image2": PolicyFeature(FeatureType.VISUAL, (3, h, w)),
                    "observation.state": PolicyFeature(FeatureType.STATE, (8,))},
    output_features={"action": PolicyFeature(FeatureType.ACTION, (7,))},
    normalization_mapping={"VISUAL": NormalizationMode.MEAN_STD, "STATE": NormalizationMode.MEAN_STD,
                           "ACTION": NormalizationMode.MEAN_STD},
    pretrained_backbone_weights=None, chunk_size=50, n_action_steps=50, dim_model=256, dim_feedforward=1024,
    device="cpu")
policy = ACTPolicy(config)
stats = {"observation.state": {"mean": torch.zeros(8), "std": torch.ones(8)},
         "action": {"mean": torch.zeros(7), "std": torch.full((7,), 0.3)}}
for key in ("observation.images.image", "observation.images.image2"):
    stats[key] = {"mean": torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1),
                  "std": torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)}
pre, post = make_pre_post_processors(config, dataset_stats=stats)
policy.save_pretrained(out)
pre.save_pretrained(out)
post.save_pretrained(out)
print(out, sum(p.numel() for p in policy.parameters()), "parameters")
