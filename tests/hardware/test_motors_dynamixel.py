"""The real Dynamixel SDK (protocol 2.0) against the simulated Koch bus: sync reads and writes, EEPROM
rules, position limits, drive mode, faults, setup of a factory motor."""

from __future__ import annotations

import time

import pytest
from hw_helpers import JOINTS, KOCH_FOLLOWER_MODELS, assert_torque_off, chain_of

from hardware import sim
from hardware.motors import DynamixelBus, Motor, MotorCommError, MotorStatusError, PortUnplugged
from lerobot_fn.robot import NormMode

MOTORS = {j: Motor(i + 1, m, NormMode.RANGE_M100_100) for i, (j, m) in enumerate(zip(JOINTS, KOCH_FOLLOWER_MODELS))}


def open_bus(port) -> DynamixelBus:
    # the simulated arm's reply margin (250 ms), not a shorter one to make the faults below time out sooner:
    # the simulator runs in this process, and a loaded machine can keep it from answering for longer than 40 ms
    bus = DynamixelBus(port, MOTORS)
    bus.connect()
    return bus


def test_models_sync_read_and_sync_write(sim_port):
    port = sim_port("koch_follower", speed=5000)
    with open_bus(port) as bus:
        assert bus.ping("shoulder_pan") == 1060 and bus.ping("gripper") == 1200  # XL430-W250, XL330-M288
        start = bus.sync_read("Present_Position", normalize=False)
        assert start == {j: chain_of(port).servo(j).get("Present_Position") for j in JOINTS}
        bus.enable_torque()
        goals = {j: start[j] - 150 for j in JOINTS}
        bus.sync_write("Goal_Position", goals, normalize=False)
        time.sleep(0.1)
        assert bus.sync_read("Present_Position", normalize=False) == goals
    assert_torque_off(port)


def test_eeprom_needs_torque_off_and_goals_respect_the_limits(sim_port):
    port = sim_port("koch_follower")
    with open_bus(port) as bus:
        bus.write("Max_Position_Limit", "elbow_flex", 3000, normalize=False)
        bus.enable_torque("elbow_flex")
        with pytest.raises(MotorStatusError, match=r"'Homing_Offset' on motor 'elbow_flex' \(id 3\).*torque off"):
            bus.write("Homing_Offset", "elbow_flex", 10, normalize=False)
        with pytest.raises(MotorStatusError, match="outside the motor's limits"):
            bus.write("Goal_Position", "elbow_flex", 3500, normalize=False)
        bus.write("Goal_Position", "elbow_flex", 2950, normalize=False)
    assert_torque_off(port)


def test_drive_mode_reverses_and_homing_adds(sim_port):
    port = sim_port("koch_leader", motion="still")
    bus = DynamixelBus(port, {j: Motor(i + 1, "xl330-m077") for i, j in enumerate(JOINTS)})
    with bus:
        bus.write("Operating_Mode", "elbow_flex", 4, normalize=False)  # extended position: multi-turn
        bus.write("Drive_Mode", "elbow_flex", 1, normalize=False)
        shaft = chain_of(port).servo("elbow_flex").shaft
        assert bus.read("Present_Position", "elbow_flex", normalize=False) == -round(shaft)
        offsets = bus.set_half_turn_homings(["elbow_flex"])
        assert offsets["elbow_flex"] == 2047 + round(shaft)  # Present = Actual + Homing_Offset
        assert bus.read("Present_Position", "elbow_flex", normalize=False) == 2047
        assert bus.read_calibration()["elbow_flex"].drive_mode == 1


@pytest.mark.parametrize("fault", [sim.NO_REPLY, sim.CORRUPT, sim.SHORT])
def test_faults_are_retried_then_reported(sim_port, fault):
    port = sim_port("koch_follower")
    with open_bus(port) as bus:
        chain = chain_of(port)
        chain.inject(fault, motor_id=5, count=1)
        assert bus.sync_read("Present_Position", normalize=False)["wrist_roll"] == chain.servo("wrist_roll").get(
            "Present_Position")
        chain.inject(fault, motor_id=5, count=3)
        with pytest.raises(MotorCommError, match=r"sync read 'Present_Position' at port .* after 3 tries"):
            bus.sync_read("Present_Position")
    assert_torque_off(port)


def test_overload_sets_the_alert_bit(sim_port):
    port = sim_port("koch_follower")
    with open_bus(port) as bus:
        bus.enable_torque()
        chain_of(port).servo("wrist_flex").set_overload(True)
        with pytest.raises(MotorStatusError, match=r"'wrist_flex' \(id 4\).*Hardware_Error_Status"):
            bus.read("Present_Position", "wrist_flex", normalize=False)
        assert bus.read("Hardware_Error_Status", "gripper") == 0
    assert_torque_off(port)


def test_unplugging_the_cable_is_named_and_disconnect_still_returns(sim_port):
    port = sim_port("koch_follower")
    bus = open_bus(port)
    bus.enable_torque()
    sim.running(port).unplug()
    with pytest.raises(PortUnplugged, match=f"{port}.*unplugged"):
        bus.sync_read("Present_Position", normalize=False)
    bus.disconnect()  # torque cannot be turned off through a missing cable: logged, never raised
    assert not bus.is_connected


def test_setup_motor_moves_a_factory_motor_to_its_id_and_1_mbps(sim_port):
    port = sim_port("koch_follower", factory=1)
    chain = sim.open_sim(port).chain
    chain.attach_only("wrist_roll")
    bus = DynamixelBus(port, MOTORS)
    bus.connect(handshake=False)
    try:
        bus.setup_motor("wrist_roll", initial_baudrate=57_600)  # ROBOTIS ships X-series at 57600 bps
        servo = chain.servo("wrist_roll")
        assert (servo.id, servo.baud_index) == (5, 3)
        assert bus.baudrate == 1_000_000 and bus.ping("wrist_roll") == 1200
    finally:
        bus.disconnect(disable_torque=False)
