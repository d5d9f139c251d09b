"""Policies (ACT, Diffusion) as pure functions over TensorDict batches.

    policy = policies.load("lerobot/act_aloha_sim_transfer_cube_human")   # or a local pretrained_model/
    state = policies.initial_state(policy)
    action, state = policies.select_action(policy, obs, state)

Families live in `policies.act` / `policies.diffusion`; `policies.registry` maps LeRobot's config
"type" to them. Names are imported lazily, so `import lerobot_fn.policies.features` pulls in
neither the API nor any family. `load` / `save` / `load_pipeline` / `save_pipeline` read and write
files, and `from_config` reads the pretrained backbone weights a config names: they are the shell
`lerobot_fn.data.pretrained`'s, named here by string (the core never imports a shell; its pure
`policies.api.from_config` takes the weights as a state dict).
"""

import importlib

_API = {
    "Policy": "lerobot_fn.policies.api",
    "from_config": "lerobot_fn.data.pretrained",
    "initial_state": "lerobot_fn.policies.api",
    "load": "lerobot_fn.data.pretrained",
    "loss": "lerobot_fn.policies.api",
    "make_processors": "lerobot_fn.policies.api",
    "optimize": "lerobot_fn.policies.api",
    "postprocess": "lerobot_fn.policies.api",
    "predict_chunk": "lerobot_fn.policies.api",
    "preprocess": "lerobot_fn.policies.api",
    "save": "lerobot_fn.data.pretrained",
    "select_action": "lerobot_fn.policies.api",
    # the checkpoint / backbone file shell (I/O lives outside the core; named here so `policies.load(path)` works)
    "load_pipeline": "lerobot_fn.data.pretrained",
    "save_pipeline": "lerobot_fn.data.pretrained",
}

__all__ = [
    "Policy",
    "from_config",
    "initial_state",
    "load",
    "load_pipeline",
    "loss",
    "make_processors",
    "optimize",
    "postprocess",
    "predict_chunk",
    "preprocess",
    "save",
    "save_pipeline",
    "select_action",
]


def __getattr__(name: str):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_API))
