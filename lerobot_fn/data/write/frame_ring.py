"""Hand camera frames to an encoder process through shared memory: one copy per frame.

A `FrameRing` is `slots` frame buffers in one shared-memory file (a memfd on Linux) that the
recording process and its encoder process both map, as diffusion_policy's real-world recorder
does. `put(frame)` copies the frame into a free slot; `notify()` (once per control-loop tick, after
every camera's copy) writes the filled slots' numbers (4 bytes each) to the encoder's "ready" pipe.
The encoder reads each frame in place and writes its number back on the "freed" pipe once it has
its own copy. No thread, no frame bytes through a pipe, nothing that waits on the encoder: when
every slot is in use (the encoder is behind), the frame is copied into process memory and handed
over as slots free up (`put`, `drain`).
"""

from __future__ import annotations

import collections
import mmap
import os
import select
import tempfile

import numpy as np

#: Slots per camera: how far (in frames) the encoder may fall behind before frames wait in the
#: recording process's memory. 32 frames of 640x480 RGB are 29 MB of shared memory.
RING_SLOTS = 32

_INDEX = np.dtype("<u4")


class FrameRing:
    """`slots` uint8 frames of `shape` in shared memory, and the two pipes' flow control."""

    def __init__(self, shape: tuple[int, ...], slots: int = RING_SLOTS) -> None:
        self.shape, self.slots = tuple(shape), int(slots)
        self.frame_bytes = int(np.prod(self.shape))
        self.size = self.slots * self.frame_bytes
        if hasattr(os, "memfd_create"):  # Linux: anonymous shared memory, not bounded by /dev/shm's size
            self.fd = os.memfd_create("lerobot-fn-frames")
        else:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
            self.fd = os.dup(self._file.fileno())
        os.ftruncate(self.fd, self.size)
        self._map = mmap.mmap(self.fd, self.size)
        self.frames = np.frombuffer(self._map, dtype=np.uint8).reshape(self.slots, *self.shape)
        self.frames.reshape(-1)[:: mmap.PAGESIZE] = 0  # touch every page now, not in the control loop
        self._free = list(range(self.slots - 1, -1, -1))
        self._pending: collections.deque[np.ndarray] = collections.deque()
        self._ready = self._freed = -1
        self._partial = b""
        self._unsent = bytearray()  # numbers of the slots filled since the last `notify`

    def attach(self, ready_fd: int, freed_fd: int) -> None:
        """The pipe the encoder reads slot numbers from, and the one it returns them on."""
        self._ready, self._freed = ready_fd, freed_fd
        os.set_blocking(freed_fd, False)

    @property
    def backlog(self) -> int:
        """Frames handed over or waiting that the encoder has not taken yet."""
        return self.slots - len(self._free) + len(self._pending)

    def put(self, frame: np.ndarray) -> None:
        """Copy `frame` (uint8, `shape`) for the encoder; it learns of it at the next `notify`."""
        self.reclaim()
        if self._free and not self._pending:
            self._send(frame)
        else:
            self._pending.append(np.array(frame, dtype=np.uint8))
            self._flush()

    def notify(self) -> None:
        """Tell the encoder which slots were filled (one pipe write). Raises BrokenPipeError if it
        has exited. The control loop calls this after copying every camera's frame, so that no
        encoder wakes up to compete for the CPU while the copies run."""
        if self._unsent:
            os.write(self._ready, self._unsent)  # <= 4 * slots bytes: atomic, never blocks
            self._unsent.clear()

    def drain(self, timeout: float | None = None) -> None:
        """Hand every waiting frame over, waiting for the encoder to free slots. Raises
        TimeoutError when the encoder frees no slot for `timeout` seconds (it is stuck)."""
        self.notify()
        while self._pending:
            if not self.reclaim(wait=True, timeout=timeout):
                raise BrokenPipeError("the encoder process exited with frames still to encode")
            self._flush()
            self.notify()

    def reclaim(self, wait: bool = False, timeout: float | None = None) -> bool:
        """Take back the slots the encoder has freed (waiting for one if `wait`, at most `timeout`
        seconds: TimeoutError after that); False once the encoder has closed its end (it exited)."""
        if wait and not select.select([self._freed], [], [], timeout)[0]:
            raise TimeoutError(f"the encoder process freed no frame slot for {timeout} s")
        try:
            data = os.read(self._freed, 4 * self.slots)
        except BlockingIOError:
            return True
        if not data:
            return False
        data, whole = self._partial + data, (len(self._partial) + len(data)) // 4 * 4
        self._partial = data[whole:]
        self._free += np.frombuffer(data[:whole], dtype=_INDEX).tolist()
        return True

    def _send(self, frame: np.ndarray) -> None:
        slot = self._free.pop()
        np.copyto(self.frames[slot], frame, casting="unsafe")
        self._unsent += slot.to_bytes(4, "little")

    def _flush(self) -> None:
        while self._pending and self._free:
            self._send(self._pending.popleft())

    def close(self) -> None:
        """Unmap and close the shared memory (the encoder process keeps its own mapping)."""
        self._pending.clear()
        self.frames = None
        self._map.close()
        os.close(self.fd)
        if hasattr(self, "_file"):
            self._file.close()
