"""Two lanes of env workers: the policy computes one lane's actions while the other lane's simulators step.

With one batch of envs the parent and the workers take turns: the workers sleep while the policy runs
in the parent, and the parent sleeps while they step. Splitting the envs into two lanes, each rolled
out by its own thread, overlaps the two (torch and the pipe reads release the GIL): on the 2-core VM,
10 PushT episodes with Diffusion and no video took 12.6-14.0 s in one batch of 10 and 10.5-11.2 s in two
lanes of 5; a 50-episode evaluation with 10 videos gains less (the renders keep both cores busy).
An episode's result depends only on its seed (`rollout`), so lanes change no number. Batches are
dealt to whichever lane is free, in episode order.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence

LANES = 2
MIN_ENVS_PER_LANE = 2  # below that a lane is a SerialEnv stepping in the parent: nothing to overlap


def lane_count(num_envs: int) -> int:
    """How many lanes `num_envs` parallel envs are split into."""
    return LANES if num_envs >= LANES * MIN_ENVS_PER_LANE else 1


def plan(n_episodes: int, num_envs: int) -> tuple[int, int, list[range]]:
    """(lanes, envs per lane, each batch's episode indices): batches in whole rounds of the lanes, of
    near-equal sizes, so no lane runs its last batch alone while the other has nothing left."""
    lanes = lane_count(num_envs)
    rounds = math.ceil(n_episodes / num_envs)
    size = math.ceil(n_episodes / (lanes * rounds))
    batches = [range(start, min(start + size, n_episodes)) for start in range(0, n_episodes, size)]
    return lanes, size, batches


def run_lanes(lanes: int, batches: Sequence[range], run_batch: Callable[[int, range, Callable[[], bool]], None]) -> None:
    """Call `run_batch(lane, batch, stopped)` for every batch, on `lanes` threads (lane 0 on this one).

    A failure in either lane (an exception, Ctrl-C here) makes the other stop at its next step
    (`stopped()` turns true), waits for it, and is raised; the caller then closes the envs."""
    pending = iter(batches)
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def lane(index: int) -> None:
        try:
            while not stop.is_set():
                with lock:
                    batch = next(pending, None)
                if batch is None:
                    return
                run_batch(index, batch, stop.is_set)
        except BaseException as exc:  # noqa: BLE001 (re-raised on the calling thread)
            if not stop.is_set():
                errors.append(exc)
            stop.set()

    others = [threading.Thread(target=lane, args=(i,), name=f"eval-lane-{i}", daemon=True) for i in range(1, lanes)]
    for thread in others:
        thread.start()
    try:
        lane(0)
        for thread in others:
            thread.join()
    except BaseException:  # Ctrl-C while waiting for the other lanes
        stop.set()
        for thread in others:
            thread.join()
        raise
    if errors:
        raise errors[0]
