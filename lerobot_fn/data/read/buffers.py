"""Batch frame buffers reused from batch to batch instead of fresh memory every batch.

A batch's video tensors are written into shared-memory segments (memfd) kept by the process
that decodes them. A fresh 30-60 MB tensor per batch costs a page fault and a zeroed page for
every 4 KiB written (about a third of a worker's time at 480x640 float32); a reused segment
is already mapped. A segment goes back to its pool only when the tensor given out (and every
view of it) is gone in the process that holds it:

- decoded in the main process (`num_workers=0`): when the caller drops the batch;
- decoded in a DataLoader worker: the batch pickles a reference to the segment instead of the
  bytes (`Batch.__reduce_ex__` calls `sendable`); the segment's file descriptor goes with the
  first batch of it only (one socket connection to the worker's descriptor sharer), and the
  main process keeps that mapping while the worker lives. When the last tensor over it is gone
  the main process marks the segment free in its header, which the worker reads before reusing
  it. A batch that is never sent (dropped in the worker) frees its segment there. A segment the
  worker closes is named in its next batch, and the main process drops its mapping; those of
  exited workers are dropped when the next worker's descriptor arrives and by `drop_free`.

A segment's header holds (state, generation); a generation is one use, so a late release of
an older use never frees a newer one. When every segment is busy (a caller keeping many
batches) a new one is made, up to `MAX_SEGMENTS`, then plain memory is used.
"""

from __future__ import annotations

import itertools
import math
import mmap
import os
import threading
import weakref

import numpy as np
import torch

HEADER = 4096  # bytes before the data: state and generation (int64), page-aligned data
FREE, TAKEN, SENT = 0, 1, 2
MAX_SEGMENTS = 16  # per process


class _Segment:
    def __init__(self, nbytes: int, serial: int):
        self.nbytes = nbytes
        self.serial = serial  # names the segment to the main process, with the pool's (pid, token)
        self.delivered = False  # its descriptor has gone to the main process
        self.fd = os.memfd_create("lerobot_fn-batch", os.MFD_CLOEXEC)
        os.ftruncate(self.fd, HEADER + nbytes)
        self.map = mmap.mmap(self.fd, HEADER + nbytes)
        self.header = np.frombuffer(self.map, np.int64, count=2)  # [state, generation]

    def close(self) -> None:
        del self.header
        self.map.close()
        os.close(self.fd)


class _Pool:
    def __init__(self):
        self.pid = os.getpid()
        self.token = os.urandom(8).hex()  # tells this process from an earlier one with its pid
        self.lock = threading.Lock()
        self.segments: list[_Segment] = []
        self.serials = itertools.count()
        self.retired: list[int] = []  # delivered segments closed since the last batch was sent
        self.given: dict[int, tuple[_Segment, int]] = {}  # storage data_ptr -> (segment, generation)

    def take(self, nbytes: int) -> torch.Tensor | None:
        """A uint8 tensor of `nbytes` over a free segment (made if none fits), None if at the cap."""
        with self.lock:
            fits = [s for s in self.segments if s.header[0] == FREE and s.nbytes >= nbytes]
            if fits:
                seg = min(fits, key=lambda s: s.nbytes)
            else:
                if len(self.segments) >= MAX_SEGMENTS:
                    small = [s for s in self.segments if s.header[0] == FREE]
                    if not small:
                        return None
                    self._close(small[0])
                seg = _Segment(nbytes, next(self.serials))
                self.segments.append(seg)
            seg.header[1] += 1
            gen = int(seg.header[1])
            seg.header[0] = TAKEN
            view = memoryview(seg.map)[HEADER : HEADER + nbytes]
            weakref.finalize(view, _release_local, self, seg, gen).atexit = False
            tensor = torch.frombuffer(view, dtype=torch.uint8)
            self.given[tensor.untyped_storage().data_ptr()] = (seg, gen)
            return tensor

    def drop_free(self) -> None:
        with self.lock:
            for seg in [s for s in self.segments if s.header[0] == FREE]:
                self._close(seg)

    def _close(self, seg: _Segment) -> None:
        self.segments.remove(seg)
        if seg.delivered:
            self.retired.append(seg.serial)
        seg.close()


def _release_local(pool: _Pool, seg: _Segment, gen: int) -> None:
    """The tensor given out is gone in this process: free its segment unless it was sent."""
    if os.getpid() != pool.pid:  # inherited through fork: the segment is the parent's
        return
    with pool.lock:
        for ptr, (s, g) in list(pool.given.items()):
            if s is seg and g == gen:
                del pool.given[ptr]
        if seg.map.closed or seg.header[1] != gen:
            return
        if seg.header[0] == TAKEN:
            seg.header[0] = FREE


_POOL = _Pool()


def _new_pool_after_fork() -> None:
    """In a forked child: the parent's segments are never reused or freed here (their mappings
    stay while an inherited tensor uses them); their descriptors are closed."""
    global _POOL, _DELIVERED_LOCK
    for seg in _POOL.segments:
        os.close(seg.fd)
    _POOL = _Pool()
    _DELIVERED.clear()  # the parent's mappings of its workers' memory
    _DELIVERED_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_new_pool_after_fork)


def empty(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised tensor over a pooled segment (plain memory when the pool is at its cap:
    shared memory inside a DataLoader worker, so the batch still crosses without a copy)."""
    nbytes = math.prod(shape) * dtype.itemsize
    raw = _POOL.take(nbytes) if nbytes and hasattr(os, "memfd_create") else None  # memfd: Linux
    if raw is not None:
        return raw.view(dtype).view(shape)
    if torch.utils.data.get_worker_info() is None:
        return torch.empty(shape, dtype=dtype)
    storage = torch.UntypedStorage._new_shared(nbytes)
    return torch.empty(0, dtype=dtype).set_(storage).view(shape)


def drop_free() -> None:
    """Close this process's free segments (those no batch uses) and forget the mappings of
    exited workers' segments."""
    _POOL.drop_free()
    _forget_exited_workers()


class _Sent:
    """A pooled tensor as pickled from a worker: which segment (and its descriptor if the main
    process has not had it yet), which use of it, where the tensor is in it, and the worker's
    segments closed since its last batch."""

    def __init__(self, tensor: torch.Tensor, seg: _Segment, gen: int, retired: list[int]):
        self.key = (_POOL.pid, _POOL.token, seg.serial)
        self.fd = None if seg.delivered else seg.fd
        seg.delivered = True
        self.args = (
            seg.nbytes,
            gen,
            tensor.dtype,
            tuple(tensor.shape),
            tensor.stride(),
            tensor.storage_offset(),
        )
        self.retired = retired

    def __reduce__(self):
        from multiprocessing.reduction import DupFd

        fd = None if self.fd is None else DupFd(self.fd)
        return _receive, (self.key, fd, self.retired, *self.args)


def sendable(tensors: dict) -> dict:
    """{key: picklable stand-in} for those of `tensors` ({key: tensor}) that are pooled segments
    of this process, each marked sent; only inside a DataLoader worker (elsewhere nothing)."""
    if torch.utils.data.get_worker_info() is None or not _POOL.given:
        return {}
    out = {}
    with _POOL.lock:
        for key, t in tensors.items():
            if not isinstance(t, torch.Tensor):
                continue
            found = _POOL.given.get(t.untyped_storage().data_ptr())
            if found is None:
                continue
            seg, gen = found
            if seg.header[1] == gen and seg.header[0] == TAKEN:
                seg.header[0] = SENT
                out[key] = _Sent(t, seg, gen, _POOL.retired)
                _POOL.retired = []
    return out


# In the main process: (worker pid, worker token, serial) -> the mapping of that worker segment
_DELIVERED: dict[tuple[int, str, int], mmap.mmap] = {}
_DELIVERED_LOCK = threading.Lock()


def _receive(key, fd_holder, retired, nbytes, gen, dtype, shape, stride, offset) -> torch.Tensor:
    """In the main process: the tensor over the worker's segment; frees it there when gone."""
    pid, token, _ = key
    with _DELIVERED_LOCK:
        for serial in retired:
            _DELIVERED.pop((pid, token, serial), None)  # tensors still over it keep it mapped
        if fd_holder is not None:
            fd = fd_holder.detach()
            try:
                _DELIVERED[key] = mmap.mmap(fd, HEADER + nbytes)
            finally:
                os.close(fd)
            for other in [k for k in _DELIVERED if k[0] == pid and k[1] != token]:
                del _DELIVERED[other]  # an exited worker whose pid this one reuses
            _forget_exited_workers(locked=True)
        m = _DELIVERED.get(key)
    if m is None:
        raise RuntimeError(
            f"a batch from DataLoader worker {pid} refers to its shared memory segment {key[2]}, whose "
            f"descriptor this process (pid {os.getpid()}) never received: a worker's batch can only be "
            "unpickled once, by the main process of its DataLoader"
        )
    view = memoryview(m)[HEADER : HEADER + nbytes]
    weakref.finalize(
        view, _release_remote, np.frombuffer(m, np.int64, count=2), gen, os.getpid()
    ).atexit = False
    raw = torch.frombuffer(view, dtype=torch.uint8)
    return raw.view(dtype).as_strided(shape, stride, offset)


def _forget_exited_workers(locked: bool = False) -> None:
    """Drop the mappings of workers that have exited (tensors still over one keep it mapped)."""
    if not locked:
        with _DELIVERED_LOCK:
            return _forget_exited_workers(locked=True)
    alive: dict[int, bool] = {}
    for key in list(_DELIVERED):
        pid = key[0]
        if pid not in alive:
            alive[pid] = _alive(pid)
        if not alive[pid]:
            del _DELIVERED[key]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _release_remote(header: np.ndarray, gen: int, pid: int) -> None:
    if os.getpid() == pid and header[1] == gen and header[0] == SENT:
        header[0] = FREE
