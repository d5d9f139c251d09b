"""LeRobot 0.6.1 side of the policy checks and benchmarks. Runs ONLY in the LeRobot venv
(`.lerobot-venv/bin/python benchmarks/lerobot_policy_worker.py ...`), never imported by lerobot_fn.

    check CKPT IO_SAFETENSORS IO_JSON   load CKPT with LeRobot (from_pretrained + make_pre_post_processors)
                                        and replay the fixture's inputs; print max abs diffs as JSON
    predict CKPT OBS OUT                predict_action_chunk (ACT) on the raw batch in OBS.safetensors,
                                        actions written to OUT.safetensors
    bench CKPT [--steps N] [--chunk-batch B] [--repeats R] [--device D]
                                        select_action latency at batch 1 and predict_chunk throughput;
                                        print timings as JSON
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import torch
from safetensors.torch import load_file


def load_lerobot(ckpt: str, device: str = "cpu"):
    from lerobot.configs.policies import PreTrainedConfig
    from lerobot.policies.factory import get_policy_class, make_pre_post_processors

    config = PreTrainedConfig.from_pretrained(ckpt)
    config.device = device
    policy = get_policy_class(config.type).from_pretrained(ckpt, config=config)
    policy.to(device).eval()
    pre, post = make_pre_post_processors(
        config, pretrained_path=ckpt, preprocessor_overrides={"device_processor": {"device": device}}
    )
    return config, policy, pre, post


class StepNoise:
    """Feeds recorded DDPM per-step draws to diffusers' scheduler in order."""

    def __init__(self):
        self.queue: list[torch.Tensor] = []

    def __call__(self, shape, generator=None, device=None, dtype=None, **_):
        if not self.queue:
            raise RuntimeError("DDPM asked for more step noise than recorded")
        return self.queue.pop(0).to(device=device, dtype=dtype).reshape(shape)


def check(ckpt: str, io_path: str, io_json: str) -> dict:
    io = load_file(io_path)
    meta = json.loads(open(io_json).read())
    config, policy, pre, post = load_lerobot(ckpt)
    feeder = StepNoise()
    if config.type == "diffusion":
        import diffusers.schedulers.scheduling_ddpm as ddpm

        ddpm.randn_tensor = feeder
    out: dict = {"type": config.type}
    with torch.inference_mode():
        raw = {k.split("/", 1)[1]: v for k, v in io.items() if k.startswith("predict_chunk/observation")}
        kwargs = {}
        if "predict_chunk/noise" in io:
            kwargs["noise"] = io["predict_chunk/noise"]
            feeder.queue = [io[k] for k in sorted((k for k in io if k.startswith("predict_chunk/step_noise/")),
                                                   key=lambda k: int(k.rsplit("/", 1)[1]))]
        chunk = post(policy.predict_action_chunk(pre(raw), **kwargs))
        out["predict_chunk_max_abs_diff"] = (chunk - io["predict_chunk/action"]).abs().max().item()
        policy.reset()
        noise_meta = meta.get("select_action_noise_meta") or {}
        init_steps = noise_meta.get("select_action_init_noise_steps", [])
        if init_steps:
            feeder.queue = [io[f"select_action/step_noise/{j}"] for j in range(len(noise_meta["select_action"]))]
        diffs = []
        for t in range(12):
            raw = {k.split("/", 2)[2]: v for k, v in io.items() if k.startswith(f"select_action/{t}/observation")}
            kwargs = {}
            if t in init_steps:
                kwargs["noise"] = io[f"select_action/noise/{init_steps.index(t)}"]
            action = post(policy.select_action(pre(raw), **kwargs))
            diffs.append((action - io[f"select_action/{t}/action"]).abs().max().item())
        out["select_action_max_abs_diff"] = max(diffs)
    return out


def predict(ckpt: str, obs_path: str, out_path: str) -> dict:
    from safetensors.torch import save_file

    config, policy, pre, post = load_lerobot(ckpt)
    with torch.inference_mode():
        action = post(policy.predict_action_chunk(pre(load_file(obs_path))))
    save_file({"action": action.contiguous()}, out_path)
    return {"type": config.type, "shape": list(action.shape)}


def random_obs(config, batch: int, history: int | None, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Raw observations for the config's input features: images float in [0, 1], states N(0, 1)."""
    obs = {}
    for name, feature in config.input_features.items():
        shape = tuple(feature.shape)
        full = (batch, history, *shape) if history else (batch, *shape)
        if str(feature.type.value if hasattr(feature.type, "value") else feature.type) == "VISUAL":
            obs[name] = torch.rand(full, generator=generator)
        else:
            obs[name] = torch.randn(full, generator=generator)
    return obs


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bench(ckpt: str, steps: int, chunk_batch: int, repeats: int, device: str) -> dict:
    config, policy, pre, post = load_lerobot(ckpt, device)
    g = torch.Generator().manual_seed(0)
    frames = [random_obs(config, 1, None, g) for _ in range(steps)]
    history = config.n_obs_steps if config.type == "diffusion" else None
    chunk_obs = random_obs(config, chunk_batch, history, g)
    with torch.inference_mode():
        for f in frames[:3]:  # warm-up
            post(policy.select_action(pre(f)))
        policy.reset()
        per_call = []
        for f in frames:
            _sync(device)
            t0 = time.perf_counter()
            post(policy.select_action(pre(f)))
            _sync(device)
            per_call.append(time.perf_counter() - t0)
        policy.reset()  # Diffusion's predict_action_chunk reads its queues instead of the batch once filled
        post(policy.predict_action_chunk(pre(chunk_obs)))
        chunk_times = []
        for _ in range(repeats):
            _sync(device)
            t0 = time.perf_counter()
            post(policy.predict_action_chunk(pre(chunk_obs)))
            _sync(device)
            chunk_times.append(time.perf_counter() - t0)
        action = policy.select_action(pre(frames[0]))  # a normalised action to postprocess
        processors = []
        for f in frames:  # the processor hot path alone: preprocessor of a frame + postprocessor of an action
            t0 = time.perf_counter()
            pre(f)
            post(action)
            processors.append(time.perf_counter() - t0)
    return {
        "type": config.type,
        "select_action_mean_ms": 1e3 * statistics.mean(per_call),
        "select_action_max_ms": 1e3 * max(per_call),
        "select_action_median_ms": 1e3 * statistics.median(per_call),
        "processors_median_ms": 1e3 * statistics.median(processors),
        "predict_chunk_batch": chunk_batch,
        "predict_chunk_median_s": statistics.median(chunk_times),
        "predict_chunk_samples_per_s": chunk_batch / statistics.median(chunk_times),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("ckpt")
    c.add_argument("io")
    c.add_argument("io_json")
    p = sub.add_parser("predict")
    p.add_argument("ckpt")
    p.add_argument("obs")
    p.add_argument("out")
    b = sub.add_parser("bench")
    b.add_argument("ckpt")
    b.add_argument("--steps", type=int, default=40)
    b.add_argument("--chunk-batch", type=int, default=64)
    b.add_argument("--repeats", type=int, default=3)
    b.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    if args.cmd == "check":
        result = check(args.ckpt, args.io, args.io_json)
    elif args.cmd == "predict":
        result = predict(args.ckpt, args.obs, args.out)
    else:
        result = bench(args.ckpt, args.steps, args.chunk_batch, args.repeats, args.device)
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
