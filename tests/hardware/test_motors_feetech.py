"""The real Feetech SDK (scservo_sdk) against the simulated SO-101 bus: reads, writes, sync reads and
writes, the lock register, calibration, motor setup, and every injected fault."""

from __future__ import annotations

import time

import pytest
from hw_helpers import JOINTS, assert_torque_off, chain_of

from hardware import sim
from hardware.motors import FeetechBus, Motor, MotorCommError, MotorStatusError, PortUnplugged
from lerobot_fn.robot import MotorCalibration, NormMode, normalize

MOTORS = {j: Motor(i + 1, "sts3215", NormMode.DEGREES) for i, j in enumerate(JOINTS)}


def open_bus(port, **kwargs) -> FeetechBus:
    # the simulated arm's reply margin (250 ms), not a shorter one to make the faults below time out sooner:
    # the simulator runs in this process, and a loaded machine can keep it from answering for longer than 40 ms
    bus = FeetechBus(port, MOTORS, **kwargs)
    bus.connect()
    return bus


def test_handshake_reads_and_sync_reads_match_the_arm(sim_port):
    port = sim_port("so101_follower")
    with open_bus(port) as bus:
        chain = chain_of(port)
        assert bus.ping("gripper") == 777
        raw = bus.sync_read("Present_Position", normalize=False)
        assert raw == {j: chain.servo(j).get("Present_Position") for j in JOINTS}
        assert bus.read("Model_Number", "elbow_flex") == 777
        assert bus.read("Lock", "elbow_flex") == 1  # EEPROM locked at power on
    assert_torque_off(port)


def reached(read, goal, timeout=60.0):
    """Whether `read()` gives `goal` within `timeout` s (a loaded machine may take long to get there)."""
    deadline = time.monotonic() + timeout
    while (value := read()) != goal and time.monotonic() < deadline:
        time.sleep(0.02)
    return value == goal


def test_goal_positions_are_reached_at_the_servo_speed(sim_port):
    port = sim_port("so101_follower", speed=250)  # 0.8 s for the 200 ticks: time to see the joints on their way
    with open_bus(port) as bus:
        start = bus.sync_read("Present_Position", normalize=False)
        bus.enable_torque()
        goals = {j: start[j] + 200 for j in JOINTS}
        bus.sync_write("Goal_Position", goals, normalize=False)
        time.sleep(0.02)
        mid = bus.sync_read("Present_Position", normalize=False)
        assert all(0 < mid[j] - start[j] < 200 for j in JOINTS), mid  # on its way, not teleported
        assert reached(lambda: bus.sync_read("Present_Position", normalize=False), goals)
        bus.write("Goal_Position", "gripper", start["gripper"], normalize=False)
        assert reached(lambda: bus.read("Present_Position", "gripper", normalize=False), start["gripper"])
    assert_torque_off(port)


def test_lock_register_decides_what_survives_a_power_cycle(sim_port):
    port = sim_port("so101_follower")
    with open_bus(port) as bus:
        servo = chain_of(port).servo("wrist_flex")
        bus.write("Homing_Offset", "wrist_flex", 100, normalize=False)  # Lock = 1: takes effect...
        assert bus.read("Homing_Offset", "wrist_flex", normalize=False) == 100
        servo.power_cycle()
        assert bus.read("Homing_Offset", "wrist_flex", normalize=False) == 0  # ...but is not kept
        bus.disable_torque("wrist_flex")  # LeRobot's disable: torque off and Lock = 0
        assert bus.read("Lock", "wrist_flex") == 0
        bus.write("Homing_Offset", "wrist_flex", -300, normalize=False)  # sign-magnitude, bit 11
        servo.power_cycle()
        assert bus.read("Homing_Offset", "wrist_flex", normalize=False) == -300
        assert servo._raw_get("Homing_Offset") == 0x800 | 300


def test_calibration_homing_and_normalised_reads(sim_port):
    port = sim_port("so101_follower")
    with open_bus(port) as bus:
        bus.disable_torque()
        offsets = bus.set_half_turn_homings()
        assert set(bus.sync_read("Present_Position", normalize=False).values()) == {2047}
        calibration = {j: MotorCalibration(MOTORS[j].id, 0, offsets[j], 1000, 3000) for j in JOINTS}
        bus.write_calibration(calibration)
        assert bus.is_calibrated and bus.read_calibration() == calibration
        chain = chain_of(port)
        chain.servo("elbow_flex").shaft += 500  # someone moves the elbow by hand
        value = bus.read("Present_Position", "elbow_flex")
        assert value == pytest.approx(normalize(2547, calibration["elbow_flex"], NormMode.DEGREES, resolution=4096,
                                                apply_drive_mode=True))
        with pytest.raises(RuntimeError, match="'gripper'.*no calibration"):
            FeetechBus(port, MOTORS)._normalize("gripper", 5)


@pytest.mark.parametrize("fault", [sim.NO_REPLY, sim.CORRUPT, sim.SHORT])
def test_a_lost_or_damaged_reply_is_retried(sim_port, fault):
    port = sim_port("so101_follower")
    with open_bus(port) as bus:
        chain = chain_of(port)
        expected = chain.servo("shoulder_lift").get("Present_Position")
        chain.inject(fault, motor_id=2, count=2)  # two bad replies, two retries: the third try works
        assert bus.read("Present_Position", "shoulder_lift", normalize=False) == expected
        chain.inject(fault, motor_id=4, count=1)
        assert bus.sync_read("Present_Position", normalize=False)["wrist_flex"] == chain.servo("wrist_flex").get(
            "Present_Position")
    assert_torque_off(port)


@pytest.mark.parametrize(("fault", "says"), [(sim.NO_REPLY, "power supply"), (sim.CORRUPT, "damaged")])
def test_a_motor_that_keeps_failing_is_a_clear_error(sim_port, fault, says):
    port = sim_port("so101_follower")
    with open_bus(port) as bus:
        chain_of(port).inject(fault, motor_id=3, count=3)
        with pytest.raises(MotorCommError) as info:
            bus.read("Present_Position", "elbow_flex", normalize=False)
        message = str(info.value)
        assert "'Present_Position'" in message and "'elbow_flex' (id 3)" in message and port in message
        assert says in message and "after 3 tries" in message
        assert info.value.motor == "elbow_flex" and info.value.register == "Present_Position"
    assert_torque_off(port)


def test_overload_is_reported_with_what_to_do_and_torque_ends_off(sim_port):
    port = sim_port("so101_follower")
    with open_bus(port) as bus:
        bus.enable_torque()
        chain_of(port).servo("gripper").set_overload(True)
        with pytest.raises(MotorStatusError, match=r"'gripper' \(id 6\).*Overload.*free the joint"):
            bus.sync_read("Present_Position")
    assert_torque_off(port)


def test_unplugging_the_cable_is_named_and_disconnect_still_returns(sim_port):
    port = sim_port("so101_follower")
    bus = open_bus(port)
    sim.running(port).unplug()
    with pytest.raises(PortUnplugged, match="unplugged"):
        bus.sync_read("Present_Position", normalize=False)
    bus.disconnect()  # logs that torque could not be turned off; never raises, always closes
    assert not bus.is_connected


def test_missing_motor_and_wrong_baud_rate_fail_the_handshake_naming_ids(sim_port):
    port = sim_port("so101_follower")
    chain = sim.open_sim(port).chain
    chain.attached.discard(id(chain.servo("wrist_roll")))
    with pytest.raises(MotorCommError, match=r"no answer from 'wrist_roll' \(id 5\)") as info:
        FeetechBus(port, MOTORS, num_retry=0).connect()
    assert "power supply" in str(info.value)
    chain.attach_all()
    bus = FeetechBus(port, MOTORS, num_retry=0)
    with pytest.raises(MotorCommError, match=r"at port .* \(500000 bps\)"):
        bus.connect(baudrate=500_000)
    assert not bus.is_connected
