"""SmolVLA speed, lerobot-fn vs LeRobot 0.6.1, in one process on the same weights.

    python benchmarks/bench_smolvla.py --device cuda --json out.json      # SmolVLM2-500M architecture
    python benchmarks/bench_smolvla.py --size tiny --device cpu           # smoke run on the tests' tiny VLM

Needs LeRobot 0.6.1 (`lerobot[smolvla]`) and lerobot-fn importable by the same Python (on the GPU
machine: benchmarks/device_smolvla.sh). No Hub access: the VLM directory is written here with
SmolVLM2-500M-Video-Instruct's architecture (random weights; `load_vlm_weights=False`, float32, as a
policy trained from LeRobot's defaults) and the tests' small tokenizer. LeRobot builds the policy
(seeded), saves it, lerobot-fn loads that checkpoint. Measured, raw observations in, raw actions out,
processors included:
- select_action at batch 1: the call that samples a new chunk (10 Euler steps; what a control loop
  waits for), median of `--repeats`, and the mean over the 50 calls one chunk serves;
- fine-tuning samples/s at batch 32 (forward, loss, backward, clip, AdamW step; batches preprocessed
  once, outside the timing), LeRobot's default freezing (VLM frozen, expert + state projection trained);
- loss curves: both trained from the same weights on the same batches, noise and times for `--curve-steps`.
Variants: fp32 (eager), bf16 (`torch.autocast`), graphs-bf16 (lerobot-fn select_action compiled with
CUDA graphs), and lerobot-fn fine-tuning variants `train:A+B` (bf16; names in smolvla_variants.py, e.g.
`train:compile` = the train job's compile = true). `--profile N` writes both bf16 sides' top ops.
Results print as a markdown table; `--json` writes them (after every section, so a cut run keeps them).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TINY_VLM = ROOT / "tests" / "policies" / "data" / "smolvla_tiny_vlm"

# HuggingFaceTB/SmolVLM2-500M-Video-Instruct's architecture (its config.json, weights not needed).
SMOLVLM2_500M = {
    "model_type": "smolvlm", "scale_factor": 4, "image_token_id": 49190, "tie_word_embeddings": False,
    "text_config": {"model_type": "llama", "vocab_size": 49280, "hidden_size": 960, "intermediate_size": 2560,
                    "num_hidden_layers": 32, "num_attention_heads": 15, "num_key_value_heads": 5, "head_dim": 64,
                    "rms_norm_eps": 1e-5, "rope_theta": 100000.0, "max_position_embeddings": 8192},
    "vision_config": {"model_type": "smolvlm_vision", "hidden_size": 768, "intermediate_size": 3072,
                      "num_hidden_layers": 12, "num_attention_heads": 12, "image_size": 512, "patch_size": 16},
}
CAMERAS = ("observation.images.camera1", "observation.images.camera2", "observation.images.camera3")
STATE_DIM = ACTION_DIM = 6
TASK = "pick up the red cube and put it in the box"


def import_lerobot_smolvla():
    """LeRobot's SmolVLAPolicy and processor factory, imported without `lerobot/policies/__init__.py`:
    that file imports every policy's processors, hence `lerobot.datasets` and PyAV, which SmolVLA on
    synthetic batches never uses (so the GPU call carries no 40 MB PyAV wheel)."""
    import importlib
    import importlib.util
    import types

    if "lerobot.policies" not in sys.modules:
        spec = importlib.util.find_spec("lerobot.policies")
        package = types.ModuleType("lerobot.policies")
        package.__path__, package.__spec__ = list(spec.submodule_search_locations), spec
        sys.modules["lerobot.policies"] = package
    modeling = importlib.import_module("lerobot.policies.smolvla.modeling_smolvla")
    processor = importlib.import_module("lerobot.policies.smolvla.processor_smolvla")
    return modeling.SmolVLAPolicy, processor.make_smolvla_pre_post_processors


def make_vlm_dir(size: str, directory: Path) -> Path:
    """The tiny tests' VLM, or SmolVLM2-500M's config with the tiny tokenizer and processor files."""
    if size == "tiny":
        return TINY_VLM
    from transformers import SmolVLMConfig

    directory.mkdir(parents=True, exist_ok=True)
    for f in TINY_VLM.iterdir():
        if f.name != "config.json":
            shutil.copy(f, directory / f.name)
    SmolVLMConfig(**{k: v for k, v in SMOLVLM2_500M.items() if k != "model_type"}).save_pretrained(directory)
    return directory


def lerobot_config(vlm: Path, size: str, device: str):
    from lerobot.configs import FeatureType, PolicyFeature
    from lerobot.policies.smolvla.configuration_smolvla import SmolVLAConfig

    shape = (3, 256, 256) if size == "real" else (3, 24, 40)
    inputs = {"observation.state": PolicyFeature(type=FeatureType.STATE, shape=(STATE_DIM,))}
    inputs.update({k: PolicyFeature(type=FeatureType.VISUAL, shape=shape) for k in CAMERAS})
    outputs = {"action": PolicyFeature(type=FeatureType.ACTION, shape=(ACTION_DIM,))}
    small = {} if size == "real" else {"num_vlm_layers": 4, "max_state_dim": 8, "max_action_dim": 8,
                                       "resize_imgs_with_padding": (32, 32)}
    return SmolVLAConfig(input_features=inputs, output_features=outputs, device=device, push_to_hub=False,
                         vlm_model_name=str(vlm), load_vlm_weights=False, **small)


def stats():
    s = {k: {"mean": torch.zeros(STATE_DIM), "std": torch.ones(STATE_DIM)} for k in ("observation.state", "action")}
    for k in CAMERAS:
        s[k] = {"mean": torch.zeros(3, 1, 1), "std": torch.ones(3, 1, 1)}
    return s


def observation(config, batch: int, g: torch.Generator, *, actions: bool = False) -> dict:
    """Raw host-side observations (flat LeRobot names), optionally with an action chunk."""
    obs = {"observation.state": torch.randn(batch, STATE_DIM, generator=g), "task": [TASK] * batch}
    for k in CAMERAS:
        obs[k] = torch.rand(batch, *config.input_features[k].shape, generator=g)
    if actions:
        obs["action"] = torch.randn(batch, config.chunk_size, ACTION_DIM, generator=g)
        obs["action_is_pad"] = torch.zeros(batch, config.chunk_size, dtype=torch.bool)
    return obs


def copy(obs: dict) -> dict:
    return {k: (v.clone() if isinstance(v, torch.Tensor) else list(v)) for k, v in obs.items()}


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def amp(device: str, bf16: bool):
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def latency(run_chunk, pop, n_action_steps: int, repeats: int, device: str) -> dict:
    """run_chunk() resets and makes the chunk-sampling call; pop() one queued call. Times in ms."""
    firsts, means = [], []
    for r in range(repeats + 1):
        sync(device)
        t0 = time.perf_counter()
        out = run_chunk()
        sync(device)
        t1 = time.perf_counter()
        for _ in range(n_action_steps - 1):
            pop()
        sync(device)
        t2 = time.perf_counter()
        if r:  # the first round warms up
            firsts.append((t1 - t0) * 1e3)
            means.append((t2 - t0) * 1e3 / n_action_steps)
    return {"chunk_ms": statistics.median(firsts), "episode_mean_ms": statistics.median(means), "chunk": out}


def throughput(step, batch: int, steps: int, warmup: int, device: str) -> float:
    for _ in range(warmup):
        step()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return batch * steps / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--size", choices=("real", "tiny"), default="real")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--train-batch", type=int, default=32)
    p.add_argument("--train-steps", type=int, default=10)
    p.add_argument("--curve-steps", type=int, default=200)
    p.add_argument("--curve-batch", type=int, default=8)
    p.add_argument("--curve-variant", default="", help="train the loss curve's lerobot-fn side inside this "
                   "train: variant (e.g. compile; then --curve-batch must equal --train-batch: no recompile)")
    p.add_argument("--variants", default="fp32,bf16,graphs-bf16")
    p.add_argument("--json", type=Path)
    p.add_argument("--profile", type=int, default=0, help="profile this many bf16 fine-tuning steps per side "
                   "(top ops written beside --json)")
    p.add_argument("--sections", default="latency,train,curve")
    args = p.parse_args(argv)
    import lerobot
    import transformers
    from smolvla_variants import TRAIN_VARIANTS, profile

    from lerobot_fn import policies
    from lerobot_fn.policies import smolvla
    from lerobot_fn.train.optim import make_optimizer

    LeRobotSmolVLA, make_smolvla_pre_post_processors = import_lerobot_smolvla()
    device, variants = args.device, args.variants.split(",")
    cuda, sections = device.startswith("cuda"), args.sections.split(",")
    out_dir = args.json.parent if args.json else Path.cwd()
    gpu = torch.cuda.get_device_name() if device.startswith("cuda") else platform.processor() or "cpu"
    results: dict = {"machine": gpu, "torch": torch.__version__, "transformers": transformers.__version__,
                     "lerobot": lerobot.__version__, "size": args.size, "date": time.strftime("%Y-%m-%d"),
                     "latency": {}, "train": {}, "curve": {}, "profile": {}}

    def save():
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))

    work = Path(tempfile.mkdtemp(prefix="bench_smolvla_"))
    t_start = time.perf_counter()
    vlm = make_vlm_dir(args.size, work / "vlm")
    config = lerobot_config(vlm, args.size, device)
    torch.manual_seed(0)
    with torch.device(device):
        theirs = LeRobotSmolVLA(config)
    theirs.to(device)
    pre, post = make_smolvla_pre_post_processors(config, dataset_stats=stats())
    ckpt = work / "pretrained_model"
    theirs.save_pretrained(ckpt)
    pre.save_pretrained(ckpt)
    post.save_pretrained(ckpt)
    ours = policies.load(ckpt, device=device)
    init = {k: v.detach().clone() for k, v in theirs.state_dict().items()}
    n_params = sum(p.numel() for p in theirs.parameters())
    results["params"] = n_params
    print(f"# built {n_params / 1e6:.1f}M parameters in {time.perf_counter() - t_start:.1f} s on {gpu}", flush=True)

    # --- select_action latency at batch 1 ---
    g = torch.Generator().manual_seed(1)
    obs1 = observation(config, 1, g)
    noise = torch.randn(1, config.chunk_size, config.max_action_dim, generator=g).to(device)
    n = config.n_action_steps

    def lerobot_latency(bf16: bool):
        def chunk():
            theirs.reset()
            with torch.no_grad(), amp(device, bf16):
                return post(theirs.select_action(pre(copy(obs1)), noise=noise.clone()))

        def pop():
            with torch.no_grad(), amp(device, bf16):
                post(theirs.select_action(pre(copy(obs1))))
        return latency(chunk, pop, n, args.repeats, device)

    def ours_latency(policy):
        box = {}

        def chunk():
            action, box["state"] = policies.select_action(policy, obs1, policies.initial_state(policy), noise=noise)
            return action

        def pop():
            _, box["state"] = policies.select_action(policy, obs1, box["state"])
        return latency(chunk, pop, n, args.repeats, device)

    reference = None
    runs = [("LeRobot 0.6.1 fp32", lambda: lerobot_latency(False)), ("lerobot-fn fp32", lambda: ours_latency(ours))]
    if "bf16" in variants:
        runs += [("LeRobot 0.6.1 bf16", lambda: lerobot_latency(True)),
                 ("lerobot-fn bf16", lambda: ours_latency(policies.optimize(ours, autocast=torch.bfloat16)))]
    for name, fn in runs if "latency" in sections else ():
        r = fn()
        chunk = r.pop("chunk").float().cpu()
        reference = chunk if reference is None else reference
        r["max_abs_diff_vs_lerobot_fp32"] = float((chunk - reference).abs().max())
        results["latency"][name] = r
        print(f"| {name} | select_action chunk call {r['chunk_ms']:.2f} ms | 50-call mean {r['episode_mean_ms']:.3f} ms "
              f"| diff {r['max_abs_diff_vs_lerobot_fp32']:.2g} |", flush=True)
        save()

    # --- fine-tuning throughput at batch 32 ---
    g = torch.Generator().manual_seed(2)
    raw = observation(config, args.train_batch, g, actions=True)
    their_batch = pre(copy(raw))
    our_batch = policies.preprocess(ours, raw)
    their_params = [p for p in theirs.parameters() if p.requires_grad]
    gen = torch.Generator().manual_seed(0)

    def lerobot_step(opt, bf16):
        def step():
            with amp(device, bf16):
                loss, _ = theirs.forward(their_batch)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(their_params, 10.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
        return step

    def ours_step(opt, bf16):
        params = [p for group in opt.param_groups for p in group["params"]]

        def step():
            with amp(device, bf16):
                loss, _ = smolvla.loss(ours.model, ours.config, our_batch, generator=gen)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 10.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
        return step

    def adamw(params):
        return torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-10)

    # --- loss curves from the same weights, batches, noise and times ---
    def loss_curves(label: str) -> None:
        """Both sides trained from `init` on the same batches, noise and times (bf16 if measured);
        lerobot-fn as it is set up when called (`label`: eager, or the --curve-variant)."""
        theirs.load_state_dict(init)
        ours.model.load_state_dict(init)
        opt_t, opt_o = adamw(their_params), make_optimizer(ours)
        bf16 = "bf16" in variants
        curve_t, curve_o = [], []
        for i in range(args.curve_steps):
            g = torch.Generator().manual_seed(1000 + i)
            raw = observation(config, args.curve_batch, g, actions=True)
            nz = torch.randn(args.curve_batch, config.chunk_size, config.max_action_dim, generator=g).to(device)
            tm = (torch.rand(args.curve_batch, generator=g) * 0.999 + 0.001).to(device)
            with amp(device, bf16):
                lt, _ = theirs.forward(pre(copy(raw)), noise=nz.clone(), time=tm.clone())
            lt.backward()
            torch.nn.utils.clip_grad_norm_(their_params, 10.0)
            opt_t.step()
            opt_t.zero_grad(set_to_none=True)
            with amp(device, bf16):
                lo, _ = smolvla.loss(ours.model, ours.config, policies.preprocess(ours, raw), noise=nz, time=tm)
            lo.backward()
            torch.nn.utils.clip_grad_norm_([p for g_ in opt_o.param_groups for p in g_["params"]], 10.0)
            opt_o.step()
            opt_o.zero_grad(set_to_none=True)
            curve_t.append(lt.item())
            curve_o.append(lo.item())
        w = max(1, args.curve_steps // 10)
        windows = [(statistics.mean(curve_t[a:a + w]), statistics.mean(curve_o[a:a + w]))
                   for a in range(0, args.curve_steps, w)]
        results["curve"] = {"steps": args.curve_steps, "batch": args.curve_batch, "bf16": bf16, "lerobot_fn_variant": label,
                            "lerobot": curve_t, "lerobot_fn": curve_o, "window": w,
                            "window_means": windows,
                            "max_abs_diff": max(abs(a - b) for a, b in zip(curve_t, curve_o, strict=True))}
        print(f"| loss curve window means (LeRobot, lerobot-fn {label}) | "
              + " ".join(f"{a:.3f}/{b:.3f}" for a, b in windows) + " |", flush=True)
        save()

    theirs.train()
    ours.model.train()
    for label in [v for v in ("fp32", "bf16") if v in variants and "train" in sections]:
        bf16 = label == "bf16"
        for name, step in ((f"LeRobot 0.6.1 {label}", lerobot_step(adamw(their_params), bf16)),
                           (f"lerobot-fn {label}", ours_step(make_optimizer(ours), bf16))):
            sps = throughput(step, args.train_batch, args.train_steps, 3, device)
            results["train"][name] = {"samples_per_s": sps, "batch": args.train_batch}
            print(f"| {name} | fine-tuning {sps:.1f} samples/s at batch {args.train_batch} |", flush=True)
            if args.profile and bf16:
                slug = "lerobot" if name.startswith("LeRobot") else "ours"
                results["profile"][name] = prof = profile(step, args.profile, out_dir / f"profile_{slug}.txt", cuda)
                print(f"# profile {name}: wall {prof['wall_ms']:.1f} ms/step, kernels {prof['kernel_ms']:.1f} ms/step",
                      flush=True)
            save()
        if cuda:
            results["train"][f"peak_memory_gib_{label}"] = torch.cuda.max_memory_allocated() / 2**30
    for group in (v for v in variants if v.startswith("train:") and "train" in sections):  # lerobot-fn variants, bf16, e.g. train:gqa+compile
        names = group.removeprefix("train:").split("+")
        with contextlib.ExitStack() as stack:
            for v in names:
                stack.enter_context(TRAIN_VARIANTS[v](ours, init))
            step = ours_step(make_optimizer(ours), True)
            t0 = time.perf_counter()
            step()
            sync(device)
            first = time.perf_counter() - t0
            sps = throughput(step, args.train_batch, args.train_steps, 2, device)
            name = f"lerobot-fn bf16 {'+'.join(names)}"
            results["train"][name] = {"samples_per_s": sps, "batch": args.train_batch, "first_step_s": first}
            print(f"| {name} | fine-tuning {sps:.1f} samples/s at batch {args.train_batch} | first step {first:.0f} s |",
                  flush=True)
            if args.curve_steps and "curve" in sections and group == f"train:{args.curve_variant}":
                loss_curves(group.removeprefix("train:"))
            if args.profile and group == variants[-1]:
                results["profile"][name] = profile(step, args.profile, out_dir / "profile_ours_last.txt", cuda)
            save()

    if args.curve_steps and "curve" in sections and not args.curve_variant:
        loss_curves("eager")

    # --- lerobot-fn compiled with CUDA graphs ---
    if "graphs-bf16" in variants:
        ours.model.load_state_dict(init)
        ours.model.eval()
        fast = policies.optimize(ours, compile=True, compile_mode="reduce-overhead" if device.startswith("cuda")
                                 else None, autocast=torch.bfloat16)
        t0 = time.perf_counter()
        policies.select_action(fast, obs1, policies.initial_state(fast), noise=noise)
        results["compile_s"] = time.perf_counter() - t0
        theirs.load_state_dict(init)
        theirs.reset()
        with torch.no_grad():
            reference = post(theirs.select_action(pre(copy(obs1)), noise=noise.clone())).float().cpu()
        r = ours_latency(fast)
        r["max_abs_diff_vs_lerobot_fp32"] = float((r.pop("chunk").float().cpu() - reference).abs().max())
        results["latency"]["lerobot-fn graphs-bf16"] = r
        print(f"| lerobot-fn graphs-bf16 | select_action chunk call {r['chunk_ms']:.2f} ms | 50-call mean "
              f"{r['episode_mean_ms']:.3f} ms | diff {r['max_abs_diff_vs_lerobot_fp32']:.2g} | compile "
              f"{results['compile_s']:.0f} s |", flush=True)
        save()
    shutil.rmtree(work, ignore_errors=True)
    print(f"# total {time.perf_counter() - t_start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
