"""`WorkerEnv`: N simulators in N worker processes behind one batched TorchRL env.

Why not torchrl's `ParallelEnv`: its parent spin-waits on shared-memory flags, which on a machine
with as many cores as workers (a 2-core laptop or CI box running 2 envs) takes a core away from the
simulators (measured here: slower than gymnasium's AsyncVectorEnv), and its workers import torch
and torchrl (seconds per worker on a small machine). `WorkerEnv` keeps the contract (an `EnvBase`
of batch size [N], specs known before any worker starts, observations in shared memory) with
numpy-only workers (`sim.worker_main`) that block on pipes: the parent writes the actions into
shared memory, sends each worker one byte and sleeps (a blocking one-byte read per worker) until they answer.

The per-step path is lean, because on a small machine every microsecond the parent spends is taken
from the simulators: `step()` skips `EnvBase.step`'s generic bookkeeping (partial steps, a preset
"next", reshaping and completing done keys: all already in the right form here; it falls back to it
when those are used), the outputs are one clone of a TensorDict that views the shared buffer, and
cameras arrive already converted to float in the workers.

Workers are spawned (never forked: no inherited GL context, CUDA state or threads) on the first
`reset()` or an explicit `start()`; each builds its simulator on its first reset (the gym package
is imported there). `close()` ends them; they also end by themselves when the parent dies (their
pipe closes). A worker's exception is re-raised here with the worker's traceback.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
from typing import Any

import numpy as np
import torch
from tensordict import TensorDictBase
from torchrl.envs import EnvBase

from .config import EnvConfig, MissingExtraError, Task
from .sim import (
    CLOSE,
    ERROR,
    LENGTH,
    OK,
    RESET,
    RESET_ARGS,
    STEP,
    SharedLayout,
    layout,
    read_exact,
    worker_main,
)
from .sim_env import set_specs, to_tensordict


class EnvWorkerError(RuntimeError):
    """A simulator worker failed (its traceback is in the message) or died."""


class WorkerEnv(EnvBase):
    """`num_envs` simulators of `config` running `task`, one per worker process."""

    def __init__(self, config: EnvConfig, task: Task, num_envs: int, *, render: bool = False):
        super().__init__(device="cpu", batch_size=torch.Size([num_envs]))
        self.config, self.task, self.render, self.num_envs = config, task, render, num_envs
        self.description = f"{config.type}/{task.name}"
        set_specs(self, config, render, (num_envs,))
        self._layout = SharedLayout(layout(config, render), num_envs)
        self._procs: list[Any] = []
        self._conns: list[Any] = []
        self._fds: list[int] = []
        self._frozen = np.zeros(num_envs, dtype=bool)
        self._seeds = torch.full((num_envs,), -1, dtype=torch.int64)
        self._record = torch.zeros(num_envs, dtype=torch.bool)

    @property
    def started(self) -> bool:
        return bool(self._procs)

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def start(self) -> None:
        """Spawn the workers and wait until each is ready (idempotent)."""
        if self._procs:
            return
        ctx = mp.get_context("spawn")
        self._buffer = ctx.RawArray("B", self._layout.nbytes)
        action_size = self.num_envs * int(np.prod(self.config.action_shape))
        self._actions_raw = ctx.RawArray("f", action_size)
        self._views = self._layout.views(self._buffer)
        self._shared = to_tensordict(self._views, (self.num_envs,), copy=False)  # views: clone to keep
        if self.render:  # a batch that records no episode gets blank frames without copying any
            self._unrendered = self._shared.exclude("render")
            self._blank = torch.zeros_like(self._shared.get("render")[0]).expand_as(self._shared.get("render"))
        self._actions = np.frombuffer(self._actions_raw, dtype=np.float32).reshape(
            self.num_envs, *self.config.action_shape)
        try:
            for i in range(self.num_envs):
                parent, child = ctx.Pipe()
                proc = ctx.Process(
                    target=worker_main, name=f"lerobot-fn-env-{i}", daemon=True,
                    args=(self.config, self.task, self.render, self.num_envs, i, child, self._buffer,
                          self._actions_raw),
                )
                proc.start()
                child.close()
                self._procs.append(proc)
                self._conns.append(parent)
                self._fds.append(parent.fileno())
            self._wait(range(self.num_envs))
        except BaseException:
            self._shutdown()
            raise

    def _wait(self, indices) -> None:
        """Block until every worker in `indices` has answered; raise the first failure.

        One blocking one-byte read per worker, in order (a worker that died closes its end: EOF), no
        selector: on a small machine each extra wake-up or syscall of the parent is paid per step."""
        failure = None
        for i in indices:
            try:
                answer = os.read(self._fds[i], 1)
                if answer == ERROR:
                    answer += read_exact(self._fds[i], LENGTH.unpack(read_exact(self._fds[i], LENGTH.size))[0])
            except (EOFError, ConnectionResetError):
                answer = b""
            if answer != OK and failure is None:
                failure = (i, answer)
        if failure is not None:
            self._raise(*failure)

    def _raise(self, i: int, answer: bytes) -> None:
        if not answer:
            self._procs[i].join(timeout=1)
            raise EnvWorkerError(f"{self.description}: env worker {i} exited unexpectedly "
                                 f"(exit code {self._procs[i].exitcode})")
        if answer[:1] != ERROR:
            raise EnvWorkerError(f"{self.description}: env worker {i} answered {answer[:20]!r}")
        name, message, tb = pickle.loads(answer[1:])
        if name == MissingExtraError.__name__:
            raise MissingExtraError(message)
        raise EnvWorkerError(f"{self.description}: env worker {i} failed: {name}: {message}\n{tb}")

    def _run(self, messages: dict[int, bytes]) -> None:
        for i, message in messages.items():
            os.write(self._fds[i], message)
        self._wait(messages)

    def _outputs(self) -> TensorDictBase:
        if self.render and not self._record.any():
            return self._unrendered.clone().set("render", self._blank)
        return self._shared.clone()

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDictBase:
        self.start()
        mask = torch.ones(self.num_envs, dtype=torch.bool)
        if tensordict is not None:
            if "_reset" in tensordict:
                mask = tensordict.get("_reset").reshape(self.num_envs)
            if "episode_seed" in tensordict:
                self._seeds = tensordict.get("episode_seed").clone()
            if "record" in tensordict:
                self._record = tensordict.get("record").clone()
        messages = {}
        for i in mask.nonzero().flatten().tolist():
            seed = int(self._seeds[i])
            messages[i] = RESET + RESET_ARGS.pack(seed, bool(self._record[i]))
        self._run(messages)
        self._frozen[mask.numpy()] = False
        return self._outputs().exclude("reward").update({"episode_seed": self._seeds.clone(),
                                                        "record": self._record.clone()})

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        self._actions[...] = tensordict.get("action").detach().cpu().numpy()
        # a finished episode costs nothing: its worker is not even asked (its outputs stay as they were)
        self._run({i: STEP for i in np.flatnonzero(~self._frozen).tolist()})
        result = self._outputs()
        if self._frozen.any():
            result.get("reward")[torch.from_numpy(self._frozen)] = 0.0
        self._frozen |= self._views["done"].reshape(self.num_envs)
        return result

    def step(self, tensordict: TensorDictBase) -> TensorDictBase:
        """`EnvBase.step`, without its generic per-step bookkeeping (see the module docstring)."""
        if tensordict.batch_size != self.batch_size or "_step" in tensordict or "next" in tensordict:
            return super().step(tensordict)
        tensordict.set("next", self._step(tensordict))
        return tensordict

    def _set_seed(self, seed: int | None) -> None:
        """Seeds are given per episode (`episode_seed` at reset)."""

    def _shutdown(self) -> None:
        for fd in self._fds:
            try:
                os.write(fd, CLOSE)
            except OSError:
                pass
        for proc in self._procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        for conn in self._conns:
            conn.close()
        self._procs, self._conns, self._fds = [], [], []

    def close(self, *, raise_if_closed: bool = True) -> None:
        self._shutdown()
        super().close(raise_if_closed=False)
