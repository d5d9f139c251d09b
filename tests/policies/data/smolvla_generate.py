"""Make the SmolVLA parity fixtures with LeRobot 0.6.1 (run with .lerobot-venv's python, cwd anywhere).

    .lerobot-venv/bin/python tests/policies/data/smolvla_generate.py            # (re)write the fixtures
    .lerobot-venv/bin/python tests/policies/data/smolvla_generate.py --check CKPT OUT.safetensors

Generation writes, next to this file:
  smolvla_tiny_vlm/     a tiny SmolVLM directory (config, byte-level BPE tokenizer, processor configs; no
                        weights: `load_vlm_weights=False`, the policy checkpoint holds every weight)
  smolvla_<variant>/    per config variant: `pretrained_model/` (LeRobot's save_pretrained + processors),
                        `inputs.safetensors` + `inputs.json` (raw observations, noise, tasks) and
                        `outputs.safetensors` (predict_chunk, 10 select_action steps, loss, gradients) +
                        `outputs.json` (trainable parameter names, loss dict)
`--check` loads a checkpoint (e.g. one lerobot-fn saved) with LeRobot and writes the same outputs for the
variant's inputs, so a test can compare them with the reference.

The VLM is referred to as "smolvla_tiny_vlm", relative to this directory: the script (and the tests)
run LeRobot with this directory as the working directory.
"""

# ruff: noqa: C408 (configs read as keyword lists)
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VLM_DIR = "smolvla_tiny_vlm"
SEED = 1234
CORPUS = [
    "pick up the red cube and put it in the box",
    "push the green block to the left side of the table",
    "open the drawer then close it",
    "stack the blue cube on the yellow cube",
    "fold the towel",
]
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<fake_token_around_image>", "<global-img>",
            "<image>", "<end_of_utterance>", "<video>"]

# Variant A: LeRobot's defaults where they matter (expert in every layer, cross-attention every other
# layer, frozen VLM). Variant B: fewer expert layers, image special tokens, an empty camera, a padded
# prefix and the VLM trained except the vision encoder.
VARIANTS = {
    "a": dict(chunk_size=5, n_action_steps=3),
    "b": dict(chunk_size=4, n_action_steps=4, num_expert_layers=2, self_attn_every_n_layers=4,
              add_image_special_tokens=True, empty_cameras=1, prefix_length=40, train_expert_only=False,
              freeze_vision_encoder=True, num_steps=3, pad_language_to="max_length"),
}
COMMON = dict(max_state_dim=8, max_action_dim=8, resize_imgs_with_padding=(32, 32), tokenizer_max_length=12,
              num_vlm_layers=4, vlm_model_name=VLM_DIR, load_vlm_weights=False)
STATE_DIM = ACTION_DIM = 6
CAMERAS = {"observation.images.top": (3, 24, 40), "observation.images.wrist": (3, 32, 32)}
TASKS = ["pick up the red cube", "push the green block to the left side"]
BATCH = 2
SELECT_STEPS = 10
GRAD_KEYS = ["model.action_out_proj.weight", "model.state_proj.weight",
             "model.vlm_with_expert.lm_expert.layers.1.self_attn.k_proj.weight",
             "model.vlm_with_expert.vlm.model.text_model.layers.1.mlp.up_proj.weight",
             "model.vlm_with_expert.vlm.model.text_model.embed_tokens.weight"]


def make_tiny_vlm(directory: Path) -> None:
    """A SmolVLM config with 4 small text layers and a 2-layer vision tower, its tokenizer and processor."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, SmolVLMConfig, SmolVLMImageProcessor, SmolVLMProcessor
    from transformers.models.smolvlm.video_processing_smolvlm import SmolVLMVideoProcessor

    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=320, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(CORPUS, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<|im_start|>", eos_token="<end_of_utterance>", pad_token="<|im_end|>",
        unk_token="<|endoftext|>", model_max_length=8192,
        extra_special_tokens={"fake_image_token": "<fake_token_around_image>", "global_image_token": "<global-img>",
                              "image_token": "<image>", "end_of_utterance_token": "<end_of_utterance>",
                              "video_token": "<video>"},
    )
    vocab = len(tokenizer)
    config = SmolVLMConfig(
        text_config=dict(model_type="llama", vocab_size=vocab, hidden_size=64, intermediate_size=96,
                         num_hidden_layers=6, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                         rms_norm_eps=1e-5, rope_theta=100000.0, max_position_embeddings=512,
                         pad_token_id=tokenizer.pad_token_id),
        vision_config=dict(hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=2,
                           image_size=32, patch_size=8),
        scale_factor=2, image_token_id=tokenizer.convert_tokens_to_ids("<image>"),
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=False,
    )
    config.save_pretrained(directory)
    image_processor = SmolVLMImageProcessor(size={"longest_edge": 32}, max_image_size={"longest_edge": 32},
                                            do_image_splitting=False)
    processor = SmolVLMProcessor(image_processor=image_processor, tokenizer=tokenizer,
                                 video_processor=SmolVLMVideoProcessor(), image_seq_len=4)
    processor.save_pretrained(directory)


def make_config(variant: str):
    from lerobot.configs import FeatureType, PolicyFeature
    from lerobot.policies.smolvla.configuration_smolvla import SmolVLAConfig

    inputs = {"observation.state": PolicyFeature(type=FeatureType.STATE, shape=(STATE_DIM,))}
    inputs.update({k: PolicyFeature(type=FeatureType.VISUAL, shape=s) for k, s in CAMERAS.items()})
    outputs = {"action": PolicyFeature(type=FeatureType.ACTION, shape=(ACTION_DIM,))}
    return SmolVLAConfig(input_features=inputs, output_features=outputs, device="cpu", push_to_hub=False,
                         **COMMON, **VARIANTS[variant])


def make_stats(torch):
    g = torch.Generator().manual_seed(7)
    stats = {}
    for key, dim in (("observation.state", STATE_DIM), ("action", ACTION_DIM)):
        mean = torch.randn(dim, generator=g)
        std = torch.rand(dim, generator=g) + 0.5
        stats[key] = {"mean": mean, "std": std, "min": mean - 2 * std, "max": mean + 2 * std}
    for key in CAMERAS:
        stats[key] = {"mean": torch.full((3, 1, 1), 0.5), "std": torch.full((3, 1, 1), 0.25),
                      "min": torch.zeros(3, 1, 1), "max": torch.ones(3, 1, 1)}
    return stats


def make_inputs(torch, config) -> dict:
    """Seeded raw observations, a training batch and the explicit noise / time for every call."""
    g = torch.Generator().manual_seed(SEED)
    shape = (BATCH, config.chunk_size, config.max_action_dim)
    t = {}
    for step in range(SELECT_STEPS):
        t[f"step{step}.observation.state"] = torch.randn(BATCH, STATE_DIM, generator=g)
        for key, s in CAMERAS.items():
            t[f"step{step}.{key}"] = torch.rand(BATCH, *s, generator=g)
        t[f"step{step}.noise"] = torch.randn(*shape, generator=g)
    t["chunk_noise"] = torch.randn(*shape, generator=g)
    t["train.action"] = torch.randn(BATCH, config.chunk_size, ACTION_DIM, generator=g)
    pad = torch.zeros(BATCH, config.chunk_size, dtype=torch.bool)
    pad[1, -2:] = True
    t["train.action_is_pad"] = pad
    t["train.noise"] = torch.randn(*shape, generator=g)
    t["train.time"] = torch.rand(BATCH, generator=g) * 0.999 + 0.001
    return t


def observation(inputs: dict, step: int) -> dict:
    prefix = f"step{step}."
    obs = {k[len(prefix):]: v.clone() for k, v in inputs.items() if k.startswith(prefix) and not k.endswith("noise")}
    obs["task"] = list(TASKS)
    return obs


def run(policy, pre, post, inputs: dict, torch) -> tuple[dict, dict]:
    """LeRobot's outputs for `inputs`: what the lerobot-fn tests compare against."""
    out = {}
    policy.eval()
    with torch.no_grad():
        batch = pre(observation(inputs, 0))
        out["chunk"] = post(policy.predict_action_chunk(batch, noise=inputs["chunk_noise"].clone()))
        out["language_tokens"] = batch["observation.language.tokens"]
        out["language_mask"] = batch["observation.language.attention_mask"]
        policy.reset()
        actions = []
        for step in range(SELECT_STEPS):
            batch = pre(observation(inputs, step))
            actions.append(post(policy.select_action(batch, noise=inputs[f"step{step}.noise"].clone())))
        out["select_actions"] = torch.stack(actions)
    policy.train()
    train = observation(inputs, 0)
    train["action"] = inputs["train.action"].clone()
    train["action_is_pad"] = inputs["train.action_is_pad"].clone()
    batch = pre(train)
    loss, loss_dict = policy.forward(batch, noise=inputs["train.noise"].clone(), time=inputs["train.time"].clone())
    loss.backward()
    out["loss"] = loss.detach().reshape(1)
    params = dict(policy.named_parameters())
    for key in GRAD_KEYS:
        if params[key].grad is not None:
            out[f"grad.{key}"] = params[key].grad
    trainable = sorted(k for k, p in params.items() if p.requires_grad)
    meta = {"loss_dict": loss_dict, "trainable": trainable, "n_trainable": sum(params[k].numel() for k in trainable)}
    return {k: v.detach().contiguous() for k, v in out.items()}, meta


def load_policy(checkpoint: Path):
    from lerobot.policies.factory import make_pre_post_processors
    from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy

    policy = SmolVLAPolicy.from_pretrained(str(checkpoint))
    pre, post = make_pre_post_processors(policy.config, pretrained_path=str(checkpoint))
    return policy, pre, post


def generate(variant: str) -> None:
    import torch
    from lerobot.policies.factory import make_pre_post_processors
    from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy
    from safetensors.torch import save_file

    config = make_config(variant)
    torch.manual_seed(SEED)
    policy = SmolVLAPolicy(config)
    # The default init leaves the action projections near zero; spread every weight so the
    # outputs depend on all of them.
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    pre, post = make_pre_post_processors(config, dataset_stats=make_stats(torch))
    root = HERE / f"smolvla_{variant}"
    if root.exists():
        shutil.rmtree(root)
    checkpoint = root / "pretrained_model"
    policy.save_pretrained(checkpoint)
    pre.save_pretrained(checkpoint)
    post.save_pretrained(checkpoint)
    inputs = make_inputs(torch, config)
    save_file(inputs, str(root / "inputs.safetensors"))
    (root / "inputs.json").write_text(json.dumps({"tasks": TASKS, "select_steps": SELECT_STEPS}, indent=2))
    # Run the reloaded checkpoint, as a user would.
    policy, pre, post = load_policy(checkpoint)
    outputs, meta = run(policy, pre, post, inputs, torch)
    save_file(outputs, str(root / "outputs.safetensors"))
    (root / "outputs.json").write_text(json.dumps(meta, indent=2))


def check(checkpoint: Path, variant: str, out: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    inputs = load_file(str(HERE / f"smolvla_{variant}" / "inputs.safetensors"))
    policy, pre, post = load_policy(checkpoint.resolve())
    outputs, meta = run(policy, pre, post, inputs, torch)
    save_file(outputs, str(out))
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", nargs=2, metavar=("CHECKPOINT", "OUT"))
    parser.add_argument("--variant", default="a", choices=sorted(VARIANTS))
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    checkpoint = Path(args.check[0]).resolve() if args.check else None
    out = Path(args.check[1]).resolve() if args.check else None
    os.chdir(HERE)  # "smolvla_tiny_vlm" resolves here
    if args.check:
        check(checkpoint, args.variant, out)
        return 0
    make_tiny_vlm(HERE / VLM_DIR)
    for variant in VARIANTS:
        generate(variant)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
