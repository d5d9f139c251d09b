"""lerobot-fn: robot learning with a functional core.

Public API (imported lazily so `import lerobot_fn` stays cheap and imports no optional extra):
`data`, `process`, `policies`, `train`, `envs`, `robot`, `specs`.
"""

import importlib

__version__ = "0.1.0"
__all__ = ["data", "process", "policies", "train", "envs", "robot", "specs", "__version__"]


def __getattr__(name: str):
    if name in __all__:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
