"""How a calibration talks to its user: `ConsoleUI` (press Enter, watch a live table), `TimedUI`
(no questions: record ranges for a set time, for scripts), and for simulated arms `hardware.sim.SimHand`
(a simulated hand moves the joints)."""

from __future__ import annotations

import select
import sys
import time


class CalibrationUI:
    def wait(self, message: str) -> None:
        """Tell the user to do something and wait until it is done."""

    def start_recording(self, message: str) -> None:
        """Ranges of motion are being recorded from now on."""

    def keep_recording(self, positions: dict[str, int], mins: dict[str, int], maxes: dict[str, int]) -> bool:
        """Called with every reading; False ends the recording."""
        return False


class TimedUI(CalibrationUI):
    """Non-interactive: no waiting, ranges recorded for `seconds` (a person or a script moves the joints)."""

    def __init__(self, seconds: float = 10.0, log=print):
        self.seconds, self.log = seconds, log
        self._end = 0.0

    def wait(self, message):
        self.log(message)

    def start_recording(self, message):
        self.log(f"{message} (recording for {self.seconds:g} s)")
        self._end = time.monotonic() + self.seconds

    def keep_recording(self, positions, mins, maxes):
        return time.monotonic() < self._end


class ConsoleUI(CalibrationUI):
    """The terminal: Enter to continue, a live min / position / max table while recording."""

    def wait(self, message):
        input(f"{message} Press ENTER when done...")

    def start_recording(self, message):
        print(f"{message}\nPress ENTER to stop.")

    def keep_recording(self, positions, mins, maxes):
        print("\n".join(f"{n:<15} | {mins[n]:>6} | {positions[n]:>6} | {maxes[n]:>6}" for n in positions))
        print(f"\x1b[{len(positions)}A", end="", flush=True)
        ready, _, _ = select.select([sys.stdin], [], [], 0)
        if ready:
            sys.stdin.readline()
            print(f"\x1b[{len(positions)}B")
            return False
        return True
