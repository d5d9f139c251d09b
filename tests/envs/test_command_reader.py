"""A worker's CommandReader: commands arrive whether the worker polls (quick parent) or sleeps (slow one)."""

import socket
import threading
import time

from lerobot_fn.envs.sim import STEP, CommandReader


def test_commands_arrive_polled_slept_and_end_of_input_ends():
    parent, worker = socket.socketpair()
    try:
        reader = CommandReader(worker.fileno(), poll_s=0.05)
        parent.send(STEP)
        assert reader.next() == STEP  # waiting already: found while polling
        late = threading.Timer(0.2, parent.send, args=(b"r",))  # longer than the poll: the worker sleeps
        late.start()
        assert reader.next() == b"r"
        late.join()
        assert not reader._poll  # that wait was long: the next wait sleeps at once ...
        parent.send(STEP)
        time.sleep(0.01)
        assert reader.next() == STEP
        assert reader._poll  # ... and a short one brings polling back
        parent.close()
        assert reader.next() == b""  # the parent went away
    finally:
        parent.close()
        worker.close()
