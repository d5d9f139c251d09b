"""Action chunks predicted in a separate process, so inference never shares the control loop's GIL.

`PolicyProcess` (the control process's end) spawns `python -m hardware.policy_worker`, a fresh
interpreter (nothing of the caller's script is re-run) that sets its torch threads, lowers its own
priority below the loop's, loads the policy from its checkpoint (an in-memory policy is saved to a
temporary directory first) and answers one request at a time. A request carries the tick and the joint
values (a few hundred bytes through a socket pair); camera frames go through a shared, already unlinked
file mapped by both processes (one memory copy, nothing left on disk on any exit path); the answer is
the chunk as joint goals (n x joints floats).

Shutdown: `close()` asks the worker to stop and kills it if it has not within a second; a worker that
loses its control process (killed, crashed) sees the socket close and exits; Ctrl-C reaches the whole
process group, so the worker ignores SIGINT and the control process (which owns the robot) shuts it down.
A worker that fails reports the error and exits; one that dies is noticed at the next poll.
"""

from __future__ import annotations

import mmap
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import weakref
from collections.abc import Mapping
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from .threads import HELPER_NICE

REPO_ROOT = Path(__file__).resolve().parents[1]  # where `hardware` and `lerobot_fn` are importable from


class PolicyWorkerError(RuntimeError):
    """The policy worker failed (the message names the policy and what failed) or died."""


class WorkerTraceback(Exception):
    """The worker's own traceback, chained to the error the control process raises (`--debug` shows it)."""


def default_torch_threads() -> int:
    """One core for the control loop (and cameras), the rest for inference, at most 4 threads."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 2
    return max(1, min(4, cores - 1))


def _shared_dir() -> str | None:
    """RAM-backed /dev/shm where there is one (Linux), else the temporary directory."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


def _frame_layout(obs: Mapping) -> tuple[list[tuple[str, tuple, str, int]], int]:
    """[(name, shape, dtype, offset)] of the observation's arrays, and their total size in bytes."""
    layout, offset = [], 0
    for name, value in obs.items():
        if isinstance(value, np.ndarray):
            layout.append((name, value.shape, value.dtype.str, offset))
            offset += value.nbytes
    return layout, offset


def _views(buffer, layout) -> dict[str, np.ndarray]:
    return {name: np.ndarray(shape, dtype=np.dtype(dtype), buffer=buffer, offset=offset)
            for name, shape, dtype, offset in layout}


def _how_it_ended(returncode: int | None) -> str:
    if returncode is None:
        return "stopped answering"
    if returncode < 0:
        name = signal.Signals(-returncode).name
        hint = " (out of memory?)" if -returncode == signal.SIGKILL else ""
        return f"was killed by {name}{hint}"
    return f"exited with code {returncode}"


class PolicyProcess:
    """The control process's handle on one inference worker.

    `policy`: a `pretrained_model` directory / Hub repo id, or a loaded `Policy` (saved to a temporary
    directory for the worker to load). The worker builds the `ObservationAdapter` for `joints` and
    `cameras` and answers `submit(tick, obs)` with `(tick, joint_chunk, inference_s)` through `poll()` /
    `wait()`. Errors are `PolicyWorkerError`s naming the policy, or the worker's own ValueError /
    FileNotFoundError / ... with the policy named, when loading failed.
    """

    def __init__(self, policy, joints: list[str], cameras: list[str], *, task: str | None = None,
                 actions_per_chunk: int | None = None, device: str | None = None,
                 torch_threads: int | None = None, nice: int = HELPER_NICE):
        self._tempdir = None
        if isinstance(policy, (str, os.PathLike)):
            path, self.name, autocast = str(policy), str(policy), None
        else:
            from lerobot_fn import policies

            self._tempdir = tempfile.TemporaryDirectory(prefix="lerobot_fn_policy_")
            path = str(policies.save(policy, Path(self._tempdir.name) / "pretrained_model"))
            self.name = f"{policy.type} policy (in memory)"
            autocast = str(policy.autocast).removeprefix("torch.") if policy.autocast is not None else None
            device = device or str(policy.device)
        threads = torch_threads or default_torch_threads()
        env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
               "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)}
        ours, theirs = socket.socketpair()
        # unlinked at once: the kernel frees it when both processes have closed it, whatever happens
        self._frames_file = tempfile.TemporaryFile(dir=_shared_dir(), prefix="lerobot_fn_frames_")  # noqa: SIM115
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "hardware.policy_worker", str(theirs.fileno()), str(self._frames_file.fileno())],
                pass_fds=(theirs.fileno(), self._frames_file.fileno()), stdin=subprocess.DEVNULL, env=env)
        except BaseException:
            ours.close()
            self._frames_file.close()
            if self._tempdir is not None:
                self._tempdir.cleanup()
            raise
        finally:
            theirs.close()
        self._conn = Connection(ours.detach())
        self._map: mmap.mmap | None = None
        self._map_size = 0
        self._ready: dict | None = None
        self._finalizer = weakref.finalize(self, _shut_down, self._proc, self._conn, self._frames_file, self._tempdir)
        self._conn.send({"policy": path, "name": self.name, "device": device, "autocast": autocast,
                         "torch_threads": threads, "nice": nice, "joints": list(joints), "cameras": list(cameras),
                         "task": task, "actions_per_chunk": actions_per_chunk})

    @property
    def pid(self) -> int:
        return self._proc.pid

    def ready(self, timeout_s: float = 600.0) -> dict:
        """Wait until the worker has loaded the policy: {"notes": [...], "chunk_size", "actions_per_chunk"}."""
        if self._ready is None:
            kind, info = self._next(timeout_s, waiting_for="to load the policy")
            if kind != "ready":
                raise PolicyWorkerError(f"unexpected message {kind!r} from the policy worker for {self.name}")
            self._ready = info
            if self._tempdir is not None:  # loaded: the temporary checkpoint is not needed any more
                self._tempdir.cleanup()
        return self._ready

    def submit(self, tick: int, obs: Mapping) -> None:
        """Ask for the chunk of the observation made at `tick` (one request at a time)."""
        layout, size = _frame_layout(obs)
        if size > self._map_size:
            os.ftruncate(self._frames_file.fileno(), size)
            self._map, self._map_size = mmap.mmap(self._frames_file.fileno(), size), size
        for name, view in _views(self._map, layout).items():
            np.copyto(view, obs[name])
        scalars = {k: float(v) for k, v in obs.items() if not isinstance(v, np.ndarray)}
        self._send(("obs", tick, scalars, layout, self._map_size))

    def poll(self) -> tuple[int, np.ndarray, float] | None:
        """The chunk that has arrived, if one has (never waits)."""
        try:
            if not self._conn.poll():
                return None
        except OSError:
            raise self._died() from None
        return self._chunk(self._receive())

    def wait(self, timeout_s: float) -> tuple[int, np.ndarray, float]:
        """Wait for the chunk in flight (at most `timeout_s`)."""
        return self._chunk(self._next(timeout_s, waiting_for="to predict a chunk"))

    def close(self) -> None:
        self._finalizer()

    # -- internals ---------------------------------------------------------------------------
    def _send(self, message) -> None:
        try:
            self._conn.send(message)
        except OSError:
            raise self._died() from None

    def _next(self, timeout_s: float, *, waiting_for: str):
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if self._conn.poll(0.05):
                    return self._receive()
            except OSError:
                raise self._died() from None
            if self._proc.poll() is not None and not self._conn.poll():
                raise self._died()
            if time.monotonic() > deadline:
                raise PolicyWorkerError(f"the policy worker for {self.name} (pid {self.pid}) took more than "
                                        f"{timeout_s:g} s {waiting_for}")

    def _receive(self):
        try:
            message = self._conn.recv()
        except (EOFError, OSError):
            raise self._died() from None
        if message[0] == "error":
            _, stage, kind, text, trace = message
            raise _error(kind, f"the policy {self.name} failed {stage}: {text}") from WorkerTraceback(trace)
        return message

    @staticmethod
    def _chunk(message) -> tuple[int, np.ndarray, float]:
        if message[0] != "chunk":
            raise PolicyWorkerError(f"unexpected message {message[0]!r} from the policy worker")
        return message[1], message[2], message[3]

    def _died(self) -> PolicyWorkerError:
        try:
            code = self._proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            code = None
        return PolicyWorkerError(f"the policy worker for {self.name} (pid {self.pid}) {_how_it_ended(code)}; "
                                 "the control loop stopped")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _error(kind: str, message: str) -> Exception:
    """The worker's error as the same built-in type (ValueError, FileNotFoundError, ...), else a PolicyWorkerError."""
    import builtins

    cls = getattr(builtins, kind, None)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            return cls(message)
        except TypeError:
            pass
    return PolicyWorkerError(f"{message} ({kind})")


def _shut_down(proc: subprocess.Popen, conn: Connection, frames_file, tempdir) -> None:
    """Stop the worker (asked, then killed after 1 s), close the socket and the shared file."""
    if proc.poll() is None:
        try:
            conn.send(("stop",))
            proc.wait(timeout=1)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(timeout=10)
    conn.close()
    frames_file.close()
    if tempdir is not None:
        tempdir.cleanup()


# -- the worker process ----------------------------------------------------------------------

def _report(conn: Connection, stage: str, exc: BaseException) -> None:
    text = f"{type(exc).__name__}: {exc}" if type(exc).__name__ not in str(exc) else str(exc)
    conn.send(("error", stage, type(exc).__name__, text, traceback.format_exc()))


def serve(conn: Connection, frames_fd: int) -> int:
    """Load the policy named by the first message, then answer requests until told to stop or the
    control process goes away."""
    setup = conn.recv()
    try:
        os.nice(setup["nice"])
        import torch

        torch.set_num_threads(setup["torch_threads"])
        torch.set_num_interop_threads(1)
        import cv2

        cv2.setNumThreads(setup["torch_threads"])
        import attrs

        from lerobot_fn import policies

        from .policy_inputs import ObservationAdapter, chunk_lengths

        policy = policies.load(setup["policy"], device=setup["device"])
        if setup["autocast"]:
            policy = attrs.evolve(policy, autocast=getattr(torch, setup["autocast"]))
        adapter = ObservationAdapter(policy.config, setup["joints"], setup["cameras"])
        chunk_size, actions_per_chunk = chunk_lengths(policy.config, setup["actions_per_chunk"])
    except Exception as exc:  # noqa: BLE001 (reported to the control process, which raises it)
        _report(conn, "to load", exc)
        return 1
    conn.send(("ready", {"notes": adapter.notes, "chunk_size": chunk_size, "actions_per_chunk": actions_per_chunk}))
    from .policy_inputs import predict_joint_chunk

    frames, frames_size = None, 0
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return 0  # the control process is gone
        if message[0] == "stop":
            return 0
        _, tick, scalars, layout, size = message
        try:
            if size != frames_size:
                frames, frames_size = mmap.mmap(frames_fd, size), size
            start = time.perf_counter()
            obs = {**scalars, **_views(frames, layout)}
            chunk = predict_joint_chunk(policy, adapter, obs, task=setup["task"], actions_per_chunk=actions_per_chunk)
            del obs
            seconds = time.perf_counter() - start
        except Exception as exc:  # noqa: BLE001 (reported; the control loop stops the robot)
            _report(conn, "while predicting a chunk", exc)
            return 1
        try:
            conn.send(("chunk", tick, chunk, seconds))
        except OSError:
            return 0


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the control process's to handle
    conn_fd, frames_fd = (int(a) for a in sys.argv[1:3])
    return serve(Connection(conn_fd), frames_fd)


if __name__ == "__main__":
    sys.exit(main())
