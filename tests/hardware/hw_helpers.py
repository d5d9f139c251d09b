"""Helpers for the hardware tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

from hardware import sim

JOINTS = sim.JOINTS
KOCH_FOLLOWER_MODELS = ["xl430-w250", "xl430-w250", "xl330-m288", "xl330-m288", "xl330-m288", "xl330-m288"]


def chain_of(port: str) -> sim.ServoChain:
    server = sim.running(port)
    assert server is not None, f"no simulator running for {port}"
    return server.chain


def assert_torque_off(port: str) -> None:
    assert not any(s.torque for s in chain_of(port).servos), "a motor kept its torque after disconnect"
