"""The simulator side of an env, in plain numpy: what runs inside a worker process.

`Simulator` builds the benchmark's gym env on its first reset (importing the gym package there),
turns each gym observation into LeRobot-named arrays (cameras as float32 CHW in [0, 1], exactly
LeRobot's `preprocess_observation`: converted here, in parallel in the workers, not in the parent
that steps them all), and freezes an episode once it has ended
(further steps replay the last output with zero reward and do no simulation, as LeRobot's
`FreezeAfterEpisodeEnd`). `layout` lists every output array (name, shape, dtype) from the config
alone, so buffers can be allocated before any simulator exists. Nothing here imports torch: a
worker process starts in about the time Python, numpy and the simulator take to import.
"""

from __future__ import annotations

import os
import select
import struct
import time
from typing import Any

import numpy as np

from .config import EnvConfig, Task, nested_get

FLAGS = ("done", "terminated", "truncated", "success")


def layout(config: EnvConfig, render: bool) -> list[tuple[str, tuple[int, ...], Any]]:
    """Every output of reset/step: LeRobot feature names (cameras float32 CHW), `render` frames (uint8
    HWC) when `render`, then `reward` (float32) and the bool flags, each of shape (1,)."""
    out: list[tuple[str, tuple[int, ...], Any]] = []
    for k in config.observation_keys():
        out.append((k.feature, chw(k.shape) if k.camera else tuple(k.shape), np.float32))
    if render:
        out.append(("render", (*config.render_size(), 3), np.uint8))
    out.append(("reward", (1,), np.float32))
    out.extend((flag, (1,), np.bool_) for flag in FLAGS)
    return out


def chw(shape: tuple[int, ...]) -> tuple[int, ...]:
    h, w, c = shape
    return c, h, w


def camera_to_float(image: np.ndarray) -> np.ndarray:
    """uint8 HWC -> float32 CHW in [0, 1]: `image.permute(2, 0, 1).float() / 255` bit for bit."""
    return np.divide(image.transpose(2, 0, 1), np.float32(255), dtype=np.float32)


class Simulator:
    """One gym env of `config` running `task`, built lazily; outputs dicts of arrays per `layout`."""

    def __init__(self, config: EnvConfig, task: Task, render: bool = False):
        self.config, self.task, self.render = config, task, render
        self.keys = config.observation_keys()
        self._gym: Any = None
        self._record = False
        self._final: dict[str, np.ndarray] | None = None
        self._blank = np.zeros((*config.render_size(), 3), dtype=np.uint8) if render else None

    @property
    def started(self) -> bool:
        return self._gym is not None

    @property
    def recording(self) -> bool:
        """Whether this episode's frames are rendered (otherwise "render" is a blank frame)."""
        return self._record

    def _outputs(self, obs: Any, reward: float, terminated: bool, truncated: bool, success: bool) -> dict:
        out: dict[str, np.ndarray] = {}
        for k in self.keys:
            value = np.asarray(nested_get(obs, k.source))
            out[k.feature] = camera_to_float(value) if k.camera else value.astype(np.float32, copy=False).reshape(k.shape)
        if self.render:
            out["render"] = self._gym.render() if self._record else self._blank
        out["reward"] = np.array([reward], dtype=np.float32)
        out["done"] = np.array([terminated or truncated])
        out["terminated"] = np.array([terminated])
        out["truncated"] = np.array([truncated])
        out["success"] = np.array([success])
        return out

    def reset(self, seed: int | None = None, record: bool = False) -> dict[str, np.ndarray]:
        if self._gym is None:
            self.config.setup_worker()
            self._gym = self.config.make_gym(self.task)
        self._record = record and self.render
        self._final = None
        obs, _info = self._gym.reset(seed=seed)
        return self._outputs(obs, 0.0, False, False, False)

    def step(self, action: np.ndarray) -> dict[str, np.ndarray]:
        if self._final is not None:
            return self._final
        obs, reward, terminated, truncated, info = self._gym.step(action)
        out = self._outputs(obs, float(reward), bool(terminated), bool(truncated), bool(info.get("is_success", False)))
        if terminated or truncated:
            self._final = {**out, "reward": np.zeros(1, dtype=np.float32)}
        return out

    def close(self) -> None:
        if self._gym is not None:
            self._gym.close()
            self._gym = None


# the worker protocol, on the raw fds of a socket pair: one byte each way per step, no pickling, no framing.
# Parent -> worker: STEP, CLOSE, or RESET followed by RESET_ARGS. Worker -> parent: OK, or ERROR followed by
# a 4-byte length and the pickled (name, message, traceback).
STEP, RESET, CLOSE, OK, ERROR = b"s", b"r", b"c", b"k", b"e"
RESET_ARGS = struct.Struct("<q?")  # episode seed (< 0: unseeded), record
LENGTH = struct.Struct("<I")


#: How long a worker polls for its next command, yielding the CPU between polls, before it sleeps on
#: its pipe (s). Waking a sleeping process costs tens of microseconds on a VM (its idle vCPU halted) and
#: the parent's turnaround between two steps is 0.1-0.2 ms, so polling that long saves a wake-up per
#: step (Meta-World, 2 envs on a 2-core VM: 0.62 -> 0.47 ms per batch step); a worker whose last wait
#: was longer (a policy computing a new chunk) sleeps at once the next time, so idle workers cost nothing.
POLL_S = 300e-6


class CommandReader:
    """A worker's side of its (non-blocking) fd: the parent's next command byte, polled then slept for."""

    def __init__(self, fd: int, poll_s: float = POLL_S) -> None:
        self.fd, self.poll_s = fd, poll_s
        self._poll = True
        os.set_blocking(fd, False)

    def next(self) -> bytes:
        """The next command byte (b"" once the parent closed its end)."""
        read, fd, clock = os.read, self.fd, time.perf_counter
        start = clock()
        if self._poll:
            deadline = start + self.poll_s
            while True:
                try:
                    return read(fd, 1)
                except BlockingIOError:
                    if clock() > deadline:
                        break
                    os.sched_yield()  # the parent (or a sibling worker) may run on this CPU meanwhile
        select.select([fd], [], [])
        self._poll = clock() - start <= self.poll_s  # poll next time only if this wait was short
        return read(fd, 1)


def read_exact(fd: int, n: int) -> bytes:
    """`n` bytes from `fd` (blocking or not); raises EOFError when the other side closed first."""
    data = b""
    while len(data) < n:
        try:
            more = os.read(fd, n - len(data))
        except BlockingIOError:
            select.select([fd], [], [])
            continue
        if not more:
            raise EOFError
        data += more
    return data


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def worker_main(config: EnvConfig, task: Task, render: bool, n: int, index: int, conn, buffer, actions) -> None:
    """A worker process: build a Simulator, then serve STEP / RESET / CLOSE over `conn`'s fd, reading its
    action from and writing its outputs into shared memory (`buffer`/`actions`, see `SharedLayout`)."""
    import pickle
    import signal
    import traceback

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it closes us cleanly
    sim = None
    fd = conn.fileno()
    write = os.write
    try:
        views = list(SharedLayout(layout(config, render), n).views(buffer, index).items())
        unrendered = [(name, view) for name, view in views if name != "render"]
        action_view = np.frombuffer(actions, dtype=np.float32).reshape(-1, *config.action_shape)[index]
        sim = Simulator(config, task, render)
        commands = CommandReader(fd)
        write(fd, OK)
        while True:
            command = commands.next()
            if command == STEP:
                out = sim.step(action_view.copy())
            elif command == RESET:
                seed, record = RESET_ARGS.unpack(read_exact(fd, RESET_ARGS.size))
                out = sim.reset(None if seed < 0 else seed, record)
            else:  # CLOSE, or b"" when the parent went away
                break
            # a step of an unrecorded episode leaves its blank frame (written at reset) where it is
            for name, view in views if command == RESET or sim.recording else unrendered:
                view[...] = out[name]
            write(fd, OK)
    except (EOFError, KeyboardInterrupt, BrokenPipeError, ConnectionResetError):
        pass  # the parent went away
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        try:
            os.set_blocking(fd, True)
            payload = pickle.dumps((type(exc).__name__, str(exc), traceback.format_exc()))
            write_all(fd, ERROR + LENGTH.pack(len(payload)) + payload)
        except OSError:
            pass
    finally:
        if sim is not None:
            sim.close()
        conn.close()


class SharedLayout:
    """Where every output array of `n` envs lives inside one shared byte buffer (64-byte aligned)."""

    def __init__(self, entries: list[tuple[str, tuple[int, ...], Any]], n: int):
        self.n = n
        self.offsets: list[tuple[str, tuple[int, ...], Any, int]] = []
        offset = 0
        for name, shape, dtype in entries:
            self.offsets.append((name, shape, dtype, offset))
            offset += (int(np.prod((n, *shape))) * np.dtype(dtype).itemsize + 63) // 64 * 64
        self.nbytes = max(offset, 64)

    def views(self, buffer: Any, index: int | None = None) -> dict[str, np.ndarray]:
        """name -> array view (n, *shape) into `buffer`, or only env `index`'s row."""
        raw = np.frombuffer(buffer, dtype=np.uint8, count=self.nbytes)
        arrays = {}
        for name, shape, dtype, offset in self.offsets:
            size = int(np.prod((self.n, *shape))) * np.dtype(dtype).itemsize
            array = raw[offset : offset + size].view(dtype).reshape(self.n, *shape)
            arrays[name] = array if index is None else array[index]
        return arrays
