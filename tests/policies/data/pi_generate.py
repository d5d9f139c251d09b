"""Make the pi0 / pi05 parity fixtures with LeRobot 0.6.1 (run with .lerobot-venv's python, cwd anywhere).

    .lerobot-venv/bin/python tests/policies/data/pi_generate.py                 # (re)write the fixtures
    .lerobot-venv/bin/python tests/policies/data/pi_generate.py --check CKPT OUT.safetensors --variant pi0

Generation writes, next to this file:
  pi_tiny_paligemma/   a tiny PaliGemma directory: a transformers `config.json` (3 Gemma layers of width 64,
                       a 2-layer SigLIP tower with 8x8 patches) and a byte-level BPE tokenizer (no weights:
                       the policy checkpoint holds every weight)
  pi_tiny_expert/      the action expert's Gemma `config.json` (3 layers of width 32)
  pi_real_size.json    the state_dict layout (keys with layer numbers as N, shapes, dtypes) LeRobot builds at
                       openpi's real sizes (gemma_2b + gemma_300m, SigLIP So400m), float32 and bfloat16
  <variant>/           per policy (`pi0`, `pi05`): `pretrained_model/` (LeRobot's save_pretrained +
                       processors), `inputs.safetensors` (raw observations, noise, time) and
                       `outputs.safetensors` (predict_chunk, 10 select_action steps, loss, gradients) +
                       `outputs.json` (trainable parameter names, loss dict, the bf16 parameter layout)

LeRobot 0.6.1 builds PaliGemma only at openpi's sizes (`gemma_2b` / `gemma_300m`, SigLIP So400m, a
257152-token vocabulary). `shrink_lerobot()` lets its unchanged modelling code build the tiny sizes
instead: the variant names may name the two directories above (lerobot-fn accepts that natively),
and the sizes LeRobot hard-codes (vocabulary, SigLIP MLP width, projector width) keep the
directory's values. The tokenizer step loads the tiny tokenizer. Everything else is LeRobot's code.
`--check` loads a checkpoint (e.g. one lerobot-fn saved) with LeRobot and writes the same outputs.
Directory names are relative to this directory: the script (and the tests) run with it as cwd.
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
PALIGEMMA_DIR = "pi_tiny_paligemma"
EXPERT_DIR = "pi_tiny_expert"
SEED = 4321
CORPUS = [
    "pick up the red cube and put it in the box",
    "push the green block to the left side of the table",
    "Task: open the drawer, State: 12 130 255 0 77 201;\nAction: ",
    "stack the blue cube on the yellow cube",
    "fold the towel 0 1 2 3 4 5 6 7 8 9 10 100 200",
]
SPECIALS = ["<pad>", "<eos>", "<bos>", "<unk>", "<image>"]
VARIANTS = {
    # pi0: LeRobot's defaults where they matter; the vision tower frozen, the VLM trained.
    "pi0": dict(type="pi0", chunk_size=5, n_action_steps=3, tokenizer_max_length=16, freeze_vision_encoder=True),
    # pi05: QUANTILES normalisation and the state in the prompt; an empty camera, only the expert trained.
    "pi05": dict(type="pi05", chunk_size=4, n_action_steps=4, tokenizer_max_length=48, num_inference_steps=3,
                 empty_cameras=1, train_expert_only=True),
}
COMMON = dict(paligemma_variant=PALIGEMMA_DIR, action_expert_variant=EXPERT_DIR, max_state_dim=8, max_action_dim=8,
              image_resolution=(32, 32))
STATE_DIM = ACTION_DIM = 6
CAMERAS = {"observation.images.top": (3, 24, 40), "observation.images.wrist": (3, 32, 32)}
TASKS = ["pick up the red cube", "push_the green block\n"]
BATCH = 2
SELECT_STEPS = 10
GRAD_KEYS = ["model.action_out_proj.weight", "model.action_in_proj.weight", "model.state_proj.weight",
             "model.time_mlp_in.weight",
             "model.paligemma_with_expert.gemma_expert.model.layers.1.self_attn.k_proj.weight",
             "model.paligemma_with_expert.gemma_expert.model.layers.2.input_layernorm.dense.weight",
             "model.paligemma_with_expert.paligemma.model.language_model.layers.1.mlp.up_proj.weight",
             "model.paligemma_with_expert.paligemma.model.language_model.embed_tokens.weight"]


def make_tiny_dirs() -> None:
    """The tiny PaliGemma (config + tokenizer) and expert (config) directories."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import GemmaConfig, PaliGemmaConfig, PreTrainedTokenizerFast

    for name in (PALIGEMMA_DIR, EXPERT_DIR):
        if (HERE / name).exists():
            shutil.rmtree(HERE / name)
        (HERE / name).mkdir()
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    bpe.train_from_iterator(CORPUS, trainer=trainer)
    bos = bpe.token_to_id("<bos>")
    bpe.post_processor = processors.TemplateProcessing(single="<bos> $A", special_tokens=[("<bos>", bos)])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<bos>", eos_token="<eos>",
                                        pad_token="<pad>", unk_token="<unk>", model_max_length=8192)
    tokenizer.save_pretrained(HERE / PALIGEMMA_DIR)
    vocab = len(tokenizer)
    # Heads: LeRobot's joint attention assumes openpi's 8 query heads and 1 key/value head.
    text = dict(model_type="gemma", vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=3,
                num_attention_heads=8, num_key_value_heads=1, head_dim=16, hidden_activation="gelu_pytorch_tanh",
                pad_token_id=tokenizer.pad_token_id)
    vision = dict(model_type="siglip_vision_model", hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=2, patch_size=8, image_size=32, projector_hidden_act="gelu_fast",
                  vision_use_head=False)
    PaliGemmaConfig(text_config=text, vision_config=vision, vocab_size=vocab, projection_dim=64, hidden_size=64,
                    image_token_index=tokenizer.convert_tokens_to_ids("<image>")).save_pretrained(HERE / PALIGEMMA_DIR)
    GemmaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=3, num_attention_heads=8,
                num_key_value_heads=1, head_dim=16, hidden_activation="gelu_pytorch_tanh",
                pad_token_id=tokenizer.pad_token_id).save_pretrained(HERE / EXPERT_DIR)


def _pinned(obj, values: dict):
    """`obj` with the attributes in `values` fixed: LeRobot's assignments to them are ignored."""
    base = type(obj)
    cls = type(base.__name__, (base,), {
        "__setattr__": lambda self, k, v: base.__setattr__(self, k, values.get(k, v) if k in values else v)})
    for key, value in values.items():
        base.__setattr__(obj, key, value)
    obj.__class__ = cls
    return obj


def shrink_lerobot() -> None:
    """Let LeRobot's pi0/pi05 modelling build the tiny directories' sizes (see the module docstring)."""
    import lerobot.policies.pi0.configuration_pi0 as c0
    import lerobot.policies.pi0.modeling_pi0 as m0
    import lerobot.policies.pi0.processor_pi0 as p0
    import lerobot.policies.pi05.configuration_pi05 as c5
    import lerobot.policies.pi05.modeling_pi05 as m5
    import lerobot.policies.pi05.processor_pi05 as p5
    from lerobot.processor import TokenizerProcessorStep
    from transformers import AutoConfig, GemmaConfig, PaliGemmaConfig

    def gemma_config(variant: str):
        cfg = AutoConfig.from_pretrained(variant)
        t = getattr(cfg, "text_config", cfg)
        return m0.GemmaConfig(width=t.hidden_size, depth=t.num_hidden_layers, mlp_dim=t.intermediate_size,
                              num_heads=t.num_attention_heads, num_kv_heads=t.num_key_value_heads, head_dim=t.head_dim)

    def paligemma():
        cfg = PaliGemmaConfig.from_pretrained(PALIGEMMA_DIR)
        _pinned(cfg.text_config, {"vocab_size": cfg.text_config.vocab_size})
        _pinned(cfg.vision_config, {"intermediate_size": cfg.vision_config.intermediate_size,
                                    "projection_dim": cfg.vision_config.projection_dim})
        return _pinned(cfg, {"_vocab_size": cfg.vocab_size, "vocab_size": cfg.vocab_size,
                             "image_token_index": cfg.image_token_index})

    def gemma(**kwargs):
        kwargs["vocab_size"] = GemmaConfig.from_pretrained(EXPERT_DIR).vocab_size
        return GemmaConfig(**kwargs)

    for module in (m0, m5):
        module.get_gemma_config = gemma_config
        module.CONFIG_MAPPING = {"paligemma": paligemma, "gemma": gemma}
    for module in (p0, p5):
        module.TokenizerProcessorStep = lambda **kw: TokenizerProcessorStep(**{**kw, "tokenizer_name": PALIGEMMA_DIR})
    for cls in (c0.PI0Config, c5.PI05Config):  # the variant-name check, with the directory names allowed
        original = cls.__post_init__

        def post_init(self, original=original):
            names = self.paligemma_variant, self.action_expert_variant
            self.paligemma_variant, self.action_expert_variant = "gemma_2b", "gemma_300m"
            original(self)
            self.paligemma_variant, self.action_expert_variant = names

        cls.__post_init__ = post_init


def make_config(variant: str, **extra):
    from lerobot.configs import FeatureType, PolicyFeature
    from lerobot.policies.pi0.configuration_pi0 import PI0Config
    from lerobot.policies.pi05.configuration_pi05 import PI05Config

    fields = {**COMMON, **VARIANTS[variant], **extra}
    cls = PI0Config if fields.pop("type") == "pi0" else PI05Config
    inputs = {"observation.state": PolicyFeature(type=FeatureType.STATE, shape=(STATE_DIM,))}
    inputs.update({k: PolicyFeature(type=FeatureType.VISUAL, shape=s) for k, s in CAMERAS.items()})
    outputs = {"action": PolicyFeature(type=FeatureType.ACTION, shape=(ACTION_DIM,))}
    return cls(input_features=inputs, output_features=outputs, device="cpu", push_to_hub=False, **fields)


def make_stats(torch):
    g = torch.Generator().manual_seed(7)
    stats = {}
    for key, dim in (("observation.state", STATE_DIM), ("action", ACTION_DIM)):
        mean = torch.randn(dim, generator=g)
        std = torch.rand(dim, generator=g) + 0.5
        stats[key] = {"mean": mean, "std": std, "min": mean - 2 * std, "max": mean + 2 * std,
                      "q01": mean - 1.5 * std, "q99": mean + 1.5 * std, "q10": mean - std, "q90": mean + std}
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
            noise = inputs[f"step{step}.noise"].clone()
            policy.model.sample_noise = lambda shape, device, noise=noise: noise  # select_action takes no noise
            actions.append(post(policy.select_action(batch)))
        out["select_actions"] = torch.stack(actions)
    policy.train()
    train = observation(inputs, 0)
    train["action"] = inputs["train.action"].clone()
    train["action_is_pad"] = inputs["train.action_is_pad"].clone()
    batch = pre(train)
    policy.model.sample_noise = lambda shape, device: inputs["train.noise"].clone()
    policy.model.sample_time = lambda bsize, device: inputs["train.time"].clone()
    loss, loss_dict = policy.forward(batch)
    loss.backward()
    out["loss"] = loss.detach().reshape(1)
    params = dict(policy.named_parameters())
    for key in GRAD_KEYS:
        if key in params and params[key].grad is not None:
            out[f"grad.{key}"] = params[key].grad
    trainable = sorted(k for k, p in params.items() if p.requires_grad)
    meta = {"loss_dict": loss_dict, "trainable": trainable, "n_trainable": sum(params[k].numel() for k in trainable)}
    return {k: v.detach().contiguous() for k, v in out.items()}, meta


def load_policy(checkpoint: Path):
    from lerobot.configs import PreTrainedConfig
    from lerobot.policies.factory import get_policy_class, make_pre_post_processors

    config = PreTrainedConfig.from_pretrained(str(checkpoint))
    policy = get_policy_class(config.type).from_pretrained(str(checkpoint))
    pre, post = make_pre_post_processors(policy.config, pretrained_path=str(checkpoint))
    return policy, pre, post


def bf16_layout(variant: str) -> dict:
    """The parameter dtypes LeRobot gives a `dtype="bfloat16"` policy (which stay float32)."""
    from lerobot.policies.factory import get_policy_class

    config = make_config(variant, dtype="bfloat16")
    policy = get_policy_class(config.type)(config)
    return {"float32": sorted(k for k, p in policy.state_dict().items() if str(p.dtype) == "torch.float32")}


def real_size_layout() -> dict:
    """`pi_real_size.json`'s contents: LeRobot's pi0 / pi05 built on the meta device at the real sizes
    (run before `shrink_lerobot`)."""
    import re

    import torch
    from lerobot.policies.factory import get_policy_class

    out = {}
    for variant in VARIANTS:
        for dtype in ("float32", "bfloat16"):
            config = make_config(variant, dtype=dtype, paligemma_variant="gemma_2b",
                                 action_expert_variant="gemma_300m", image_resolution=(224, 224))
            config.device = "meta"
            with torch.device("meta"):
                state = get_policy_class(config.type)(config).state_dict()
            rows = {re.sub(r"\.\d+\.", ".N.", k): [list(v.shape), str(v.dtype).removeprefix("torch.")]
                    for k, v in state.items()}
            out[f"{variant}.{dtype}"] = {"n": len(state), "keys": rows}
    return out


def generate(variant: str) -> None:
    import torch
    from lerobot.policies.factory import get_policy_class, make_pre_post_processors
    from safetensors.torch import save_file

    config = make_config(variant)
    torch.manual_seed(SEED)
    policy = get_policy_class(config.type)(config)
    # Spread every weight (the zero-initialised norms and AdaRMS projections included) so the
    # outputs depend on all of them.
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    pre, post = make_pre_post_processors(config, dataset_stats=make_stats(torch))
    root = HERE / variant
    if root.exists():
        shutil.rmtree(root)
    checkpoint = root / "pretrained_model"
    policy.save_pretrained(checkpoint)
    pre.save_pretrained(checkpoint)
    post.save_pretrained(checkpoint)
    inputs = make_inputs(torch, config)
    save_file(inputs, str(root / "inputs.safetensors"))
    policy, pre, post = load_policy(checkpoint)  # run the reloaded checkpoint, as a user would
    outputs, meta = run(policy, pre, post, inputs, torch)
    meta["bf16_layout"] = bf16_layout(variant)
    save_file(outputs, str(root / "outputs.safetensors"))
    (root / "outputs.json").write_text(json.dumps(meta, indent=2))


def check(checkpoint: Path, variant: str, out: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    inputs = load_file(str(HERE / variant / "inputs.safetensors"))
    policy, pre, post = load_policy(checkpoint.resolve())
    outputs, meta = run(policy, pre, post, inputs, torch)
    save_file(outputs, str(out))
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", nargs=2, metavar=("CHECKPOINT", "OUT"))
    parser.add_argument("--variant", default="pi0", choices=sorted(VARIANTS))
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    checkpoint = Path(args.check[0]).resolve() if args.check else None
    out = Path(args.check[1]).resolve() if args.check else None
    os.chdir(HERE)  # the tiny directories' names resolve here
    if not args.check:
        make_tiny_dirs()
        (HERE / "pi_real_size.json").write_text(json.dumps(real_size_layout(), indent=0, sort_keys=True))
    shrink_lerobot()
    if args.check:
        check(checkpoint, args.variant, out)
        return 0
    for variant in VARIANTS:
        generate(variant)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
