"""Imports point down only (DESIGN.md "Layers"): the allowed directions between lerobot_fn's packages.

    importer      may import (besides itself)        why
    --------      ---------------------------        -------------------------------------------------
    types         -                                  feature / normalisation vocabulary (the base)
    converter     -                                  the one cattrs converter (the base)
    specs         types, converter                   schemas, spec errors, TOML, the job registry
    process       types                              processor steps: pure functions on TensorDicts
    robot         types                              pure robot maths (calibration, safety, timing)
    policies      types, converter, process          families build on the processors; config.json
    train         types, process, policies           the optimisation step drives a policy
    (core = types, converter, specs, process, robot, policies, train)
    data          core                               shells (files, Hub, video, checkpoints) over the core
    envs          core, data                         the TorchRL env shell (workers, rollouts)
    run_dir       types, specs                       the run directory shell (lerobot-run's)
    runs          core, data                         run directories read for people (notebooks)
    eval_results  core, data, runs                   eval outputs read for people
    viz           core                               plotting helpers
    jobs          core and shells                    jobs wire core and shells together
    cli           everything                         the lerobot-run front end

Every module at the top of `lerobot_fn/` has a row (a new one fails the test until it is placed).

No package of `lerobot_fn` imports `hardware/` (the job registry names hardware jobs by strings).
Likewise `policies/__init__.py` names the checkpoint shell's `load` / `save` by string, so
`policies.load(path)` works while no core module imports `lerobot_fn.data`.
Every import counts, also one inside a function: a lazy import is still an arrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "lerobot_fn"

CORE = {"types", "converter", "specs", "process", "robot", "policies", "train"}
ALLOWED = {
    "types": set(),
    "converter": set(),
    "specs": {"types", "converter"},
    "process": {"types"},
    "robot": {"types"},
    "policies": {"types", "converter", "process"},
    "train": {"types", "process", "policies"},
    "data": CORE,
    "envs": CORE | {"data"},
    "run_dir": {"types", "specs"},
    "runs": CORE | {"data"},
    "eval_results": CORE | {"data", "runs"},
    "viz": CORE,
    "jobs": CORE | {"data", "envs", "run_dir"},
    "cli": CORE | {"data", "envs", "run_dir", "runs", "jobs"},
}


def imported_modules(path: Path, root: Path = PACKAGE.parent) -> set[str]:
    """Every absolute module name `path` (under `root`) imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = list(path.relative_to(root).parent.parts)  # the package a relative import starts from
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            if module == "lerobot_fn":  # `from lerobot_fn import data, policies`
                found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


UNCHECKED_TARGETS: set[str] = set()  # layers whose incoming imports are not checked (none now)


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "lerobot_fn" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in ALLOWED else None


def arrows() -> list[tuple[str, str, str]]:
    """(importer file, its layer, imported module) for every import between two different layers."""
    out = []
    for layer in ALLOWED:
        root = PACKAGE / layer
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]
        for path in files:
            for module in imported_modules(path):
                target = _layer(module)
                if target is not None and target != layer:
                    out.append((str(path.relative_to(PACKAGE.parent)), layer, module))
    return out


def test_every_import_between_layers_points_down():
    upward = sorted(f"{path} ({layer}) imports {module}" for path, layer, module in arrows()
                    if _layer(module) not in ALLOWED[layer] | UNCHECKED_TARGETS)
    assert upward == [], "upward imports (see the table at the top of this file):\n" + "\n".join(upward)


def test_the_checker_sees_absolute_relative_and_lazy_imports(tmp_path):
    """The parser finds `import a.b`, `from a import b`, relative and in-function imports."""
    pkg = tmp_path / "lerobot_fn" / "process"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    source = pkg / "normalize.py"
    source.write_text("from ..policies import features\nimport lerobot_fn.train.step\n"
                      "def f():\n    from lerobot_fn import data\n")
    found = imported_modules(source, root=tmp_path)
    assert {"lerobot_fn.policies", "lerobot_fn.train.step", "lerobot_fn.data"} <= found
    assert {_layer(m) for m in found} - {None} == {"policies", "train", "data"}


def test_every_top_level_module_has_a_layer():
    tops = {p.name.removesuffix(".py") for p in PACKAGE.iterdir()
            if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()}
    assert sorted(tops - set(ALLOWED)) == [], "place these in ALLOWED (and the table above)"


def test_no_package_imports_hardware():
    offenders = sorted(str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("*.py")
                       if any(m == "hardware" or m.startswith("hardware.") for m in imported_modules(p)))
    assert offenders == []
