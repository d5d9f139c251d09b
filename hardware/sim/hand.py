"""A simulated person calibrating a simulated arm: centres it, then sweeps every joint through most of
its range while the calibration records, then lets go."""

from __future__ import annotations

import time

from hardware.calibration_ui import CalibrationUI

from .ports import open_sim
from .robots import AMPLITUDE, REST_POSE
from .servo import wave


class SimHand(CalibrationUI):
    def __init__(self, port: str, *, sweep_s: float = 0.4, log=print):
        self.chain = open_sim(port).chain
        self.sweep_s, self.log = sweep_s, log
        self._saved = None
        self._end = 0.0

    def wait(self, message):
        self.log(f"{message} (simulated hand: centring the joints)")
        if self._saved is None:
            self._saved = [s.motion for s in self.chain.servos]
        for servo, rest in zip(self.chain.servos, REST_POSE, strict=False):
            with servo.lock:
                servo.motion = None
                servo.shaft = rest

    def start_recording(self, message):
        self.log(f"{message} (simulated hand: sweeping every joint for {self.sweep_s:g} s)")
        for i, servo in enumerate(self.chain.servos):
            with servo.lock:
                servo.motion = wave(REST_POSE[i], AMPLITUDE[i], self.sweep_s, phase=0.0)
                servo._t0 = time.monotonic()
        self._end = time.monotonic() + self.sweep_s * 1.05

    def keep_recording(self, positions, mins, maxes):
        if time.monotonic() < self._end:
            time.sleep(0.002)
            return True
        for servo, motion, rest in zip(self.chain.servos, self._saved, REST_POSE, strict=False):
            with servo.lock:  # let go: back at rest, moving again only if it moved before
                servo.shaft, servo.motion = rest, motion
        return False
