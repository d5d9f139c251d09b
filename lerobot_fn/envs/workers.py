"""`WorkerEnv`: N simulators in N worker processes behind one batched TorchRL env.

Why not torchrl's `ParallelEnv`: its parent spin-waits on shared-memory flags for the workers,
which on a machine with as many cores as workers (a 2-core laptop or CI box running 2 envs) takes
a core away from the simulators: measured here 2-5x slower than gymnasium's AsyncVectorEnv.
`WorkerEnv` keeps the same contract (an `EnvBase` of batch size [N], specs known before any worker
starts, shared-memory observation buffers) and blocks on pipes instead: the parent writes the
actions into shared memory, sends each worker one short message, and sleeps until they answer.

Workers are spawned (never forked: no inherited GL context, CUDA state or threads) on the first
`reset()` or an explicit `start()`; each builds its simulator on its first reset (the gym package
is imported there). `close()` ends them (and they end by themselves if the parent dies: their pipe
closes). A worker that raises reports its error, re-raised here with the worker's traceback.
"""

from __future__ import annotations

import signal
import traceback
from collections.abc import Callable
from typing import Any

import torch
from tensordict import TensorDict, TensorDictBase
from torchrl.envs import EnvBase

from .config import MissingExtraError

_RESET_INPUTS = ("episode_seed", "record")
POLL_S = 1.0


class EnvWorkerError(RuntimeError):
    """A simulator worker failed (its traceback is in the message) or died."""


def _worker(factory: Callable[[], EnvBase], index: int, conn, out: TensorDictBase, action: torch.Tensor,
            reset_in: TensorDictBase) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it closes us cleanly
    torch.set_num_threads(1)
    env = None
    try:
        env = factory()
        conn.send(("ready", None))
        while True:
            command = conn.recv()
            if command == "step":
                result = env._step(TensorDict({"action": action[index]}, batch_size=[]))
            elif command == "reset":
                result = env._reset(reset_in[index])
                result.set("reward", torch.zeros(1))
            else:  # "close"
                break
            out[index].update_(result.select(*out.keys(True, True), strict=False))
            conn.send(("ok", None))
    except (EOFError, KeyboardInterrupt, BrokenPipeError):
        pass  # the parent went away
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        try:
            conn.send(("error", (type(exc).__name__, str(exc), traceback.format_exc())))
        except (BrokenPipeError, OSError):
            pass
    finally:
        if env is not None:
            env.close(raise_if_closed=False)
        conn.close()


class WorkerEnv(EnvBase):
    """`num_envs` copies of `factory()` (a SimEnv), one per worker process; see the module doc."""

    def __init__(self, factory: Callable[[], EnvBase], num_envs: int, *, description: str = "env"):
        super().__init__(device="cpu", batch_size=torch.Size([num_envs]))
        proto = factory()  # builds specs only: a SimEnv creates no simulator before its first reset
        self.factory, self.num_envs, self.description = factory, num_envs, description
        self.observation_spec = proto.observation_spec.expand(num_envs).clone()
        self.action_spec = proto.action_spec.expand(num_envs, *proto.action_spec.shape).clone()
        self.reward_spec = proto.reward_spec.expand(num_envs, *proto.reward_spec.shape).clone()
        self.full_done_spec = proto.full_done_spec.expand(num_envs).clone()
        self.state_spec = proto.state_spec.expand(num_envs).clone()
        proto.close(raise_if_closed=False)
        self._procs: list[Any] = []
        self._conns: list[Any] = []
        self._frozen = torch.zeros(num_envs, dtype=torch.bool)

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
        ctx = torch.multiprocessing.get_context("spawn")
        keys = [*self.observation_spec.keys(True, True), "reward", *self.full_done_spec.keys(True, True)]
        self._out = self.fake_tensordict().get("next").select(*keys).zero_().share_memory_()
        self._action = torch.zeros(self.action_spec.shape, dtype=self.action_spec.dtype).share_memory_()
        self._reset_in = self.state_spec.zero().share_memory_()
        try:
            for i in range(self.num_envs):
                parent, child = ctx.Pipe()
                proc = ctx.Process(target=_worker, args=(self.factory, i, child, self._out, self._action,
                                                         self._reset_in), daemon=True,
                                   name=f"lerobot-fn-env-{i}")
                proc.start()
                child.close()
                self._procs.append(proc)
                self._conns.append(parent)
            for i in range(self.num_envs):
                self._receive(i)
        except BaseException:
            self._shutdown()
            raise

    def _receive(self, i: int) -> None:
        conn, proc = self._conns[i], self._procs[i]
        while not conn.poll(POLL_S):
            if not proc.is_alive():
                raise EnvWorkerError(f"{self.description}: env worker {i} died (exit code {proc.exitcode})")
        try:
            status, payload = conn.recv()
        except EOFError:
            raise EnvWorkerError(f"{self.description}: env worker {i} exited unexpectedly") from None
        if status == "error":
            name, message, tb = payload
            if name == MissingExtraError.__name__:
                raise MissingExtraError(message)
            raise EnvWorkerError(f"{self.description}: env worker {i} failed: {name}: {message}\n{tb}")

    def _run(self, command: str, workers: list[int]) -> None:
        for i in workers:
            self._conns[i].send(command)
        for i in workers:
            self._receive(i)

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs) -> TensorDictBase:
        self.start()
        mask = torch.ones(self.num_envs, dtype=torch.bool)
        if tensordict is not None:
            if "_reset" in tensordict:
                mask = tensordict.get("_reset").reshape(self.num_envs)
            for key in _RESET_INPUTS:
                if key in tensordict:
                    self._reset_in.get(key).copy_(tensordict.get(key))
        workers = mask.nonzero().flatten().tolist()
        self._run("reset", workers)
        self._frozen[mask] = False
        keys = [*self.observation_spec.keys(True, True), *self.full_done_spec.keys(True, True)]
        return self._out.select(*keys).clone().update(self._reset_in.clone())

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        self._action.copy_(tensordict.get("action"))
        workers = (~self._frozen).nonzero().flatten().tolist()  # a finished episode costs nothing
        self._run("step", workers)
        result = self._out.clone()
        result.get("reward")[self._frozen] = 0.0
        self._frozen |= result.get("done").reshape(self.num_envs)
        return result

    def _set_seed(self, seed: int | None) -> None:
        """Seeds are given per episode (`episode_seed` at reset)."""

    def _shutdown(self) -> None:
        for conn in self._conns:
            try:
                conn.send("close")
            except (BrokenPipeError, OSError):
                pass
        for proc in self._procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        for conn in self._conns:
            conn.close()
        self._procs, self._conns = [], []

    def close(self, *, raise_if_closed: bool = True) -> None:
        self._shutdown()
        super().close(raise_if_closed=False)
