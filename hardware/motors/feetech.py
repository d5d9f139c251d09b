"""Feetech STS/SMS bus (SO-100 / SO-101 arms) over the vendor's `scservo_sdk` (feetech-servo-sdk)."""

from __future__ import annotations

import scservo_sdk as scs

from lerobot_fn.robot import MotorCalibration, decode_sign_magnitude, encode_sign_magnitude

from . import feetech_tables as ftt
from .bus import MotorsBus

PROTOCOL_VERSION = 0
STATUS_LENGTH = 6


class FeetechBus(MotorsBus):
    vendor = "Feetech"
    control_table = ftt.CONTROL_TABLE
    model_number = ftt.MODEL_NUMBER
    resolution = ftt.RESOLUTION
    baudrate_table = ftt.BAUDRATE_TABLE
    scan_baudrates = tuple(ftt.SCAN_BAUDRATES)
    apply_drive_mode = True
    homing_is_subtracted = True
    comm_success = scs.COMM_SUCCESS
    comm_corrupt = scs.COMM_RX_CORRUPT
    reply_margin_ms = 50.0  # LeRobot's packet timeout: the PyPI SDK's is too short for some adapters

    def _open_sdk(self, device: str) -> None:
        ph = scs.PortHandler(device)
        self._packet = scs.PacketHandler(PROTOCOL_VERSION)
        self._reader = scs.GroupSyncRead(ph, self._packet, 0, 0)
        self._writer = scs.GroupSyncWrite(ph, self._packet, 0, 0)
        if not ph.openPort():
            raise OSError(f"the Feetech SDK could not open {device}")
        self._port_handler = ph

    def _rx_packet(self):
        return self._packet.rxPacket(self._port_handler)

    def _reply_data(self, packet):
        # SCS/STS status: FF FF id length error params... checksum, length = params + 2
        return packet[2], packet[4], packet[5:5 + packet[3] - 2]

    def _sdk_error_text(self, error):
        return self._packet.getRxPacketError(error).removeprefix("[RxPacketError] ") or f"error 0x{error:02x}"

    def _status_hint(self, error):
        if error & ftt.ERRBIT_OVERLOAD:
            return ("Its overload protection tripped (the joint is blocked or pushes too hard) and its torque is off: "
                    "free the joint, then enable torque again")
        if error & ftt.ERRBIT_VOLTAGE:
            return "Check the supply voltage: the STS3215 versions take 7.4 V or 12 V"
        if error & ftt.ERRBIT_OVERHEAT:
            return "Let the motor cool down and reduce its load"
        return "The value is outside what the motor accepts"

    def _encode(self, register, model, value):
        bit = ftt.SIGN_MAGNITUDE_BITS.get(register)
        return encode_sign_magnitude(value, bit) if bit is not None else value

    def _decode(self, register, model, value):
        bit = ftt.SIGN_MAGNITUDE_BITS.get(register)
        return decode_sign_magnitude(value, bit) if bit is not None else value

    def _sdk_broadcast_ping(self):
        """Every motor answers a broadcast PING in turn; collect the status packets for the full window."""
        ph = self._port_handler
        wait_length = STATUS_LENGTH * scs.MAX_ID
        tx = [0] * 6
        tx[scs.PKT_ID], tx[scs.PKT_LENGTH], tx[scs.PKT_INSTRUCTION] = scs.BROADCAST_ID, 2, scs.INST_PING
        comm = self._packet.txPacket(ph, tx)
        if comm != scs.COMM_SUCCESS:
            ph.is_using = False
            return None, comm, 0
        tx_time_per_byte = (1000.0 / ph.getBaudRate()) * 10.0
        ph.setPacketTimeoutMillis((wait_length * tx_time_per_byte) + (3.0 * scs.MAX_ID) + 16.0)
        rx = []
        while not ph.isPacketTimeout() and len(rx) < wait_length:
            rx += ph.readPort(wait_length - len(rx))
        ph.is_using = False
        if not rx:
            return {}, scs.COMM_SUCCESS, 0
        found, i = [], 0
        while i + STATUS_LENGTH <= len(rx):
            if rx[i] == 0xFF and rx[i + 1] == 0xFF and (~sum(rx[i + 2:i + 5]) & 0xFF) == rx[i + 5]:
                found.append(rx[i + scs.PKT_ID])
                i += STATUS_LENGTH
            else:
                i += 1
        return found, scs.COMM_SUCCESS, 0

    def broadcast_ping(self, num_retry: int = 0) -> dict[int, int]:
        ids = self._call("broadcast ping", self._sdk_broadcast_ping, num_retry=num_retry, check_status=False)
        out = {}
        for motor_id in ids or []:
            number = self._call("read", self._sdk_read, motor_id, *ftt.STS_SMS_CONTROL_TABLE["Model_Number"],
                                motor_id=motor_id, register="Model_Number", check_status=False)
            out[motor_id] = number
        return out

    # -- torque, calibration, setup ------------------------------------------------------------
    def enable_torque(self, motors=None, num_retry=None):
        for name in self._ids(motors):
            self.write("Torque_Enable", name, 1, num_retry=num_retry)
            self.write("Lock", name, 1, num_retry=num_retry)

    def _disable_one(self, name, num_retry):
        self.write("Torque_Enable", name, 0, num_retry=num_retry)
        self.write("Lock", name, 0, num_retry=num_retry)

    def _unlock(self, motor_id, model):
        self._raw_write(motor_id, model, "Lock", 0)

    def read_calibration(self) -> dict[str, MotorCalibration]:
        out = {}
        for name, m in self.motors.items():
            out[name] = MotorCalibration(
                id=m.id, drive_mode=0, homing_offset=int(self.read("Homing_Offset", name, normalize=False)),
                range_min=int(self.read("Min_Position_Limit", name, normalize=False)),
                range_max=int(self.read("Max_Position_Limit", name, normalize=False)))
        return out

    def write_calibration(self, calibration, cache=True):
        for name, cal in calibration.items():
            self.write("Homing_Offset", name, cal.homing_offset, normalize=False)
            self.write("Min_Position_Limit", name, cal.range_min, normalize=False)
            self.write("Max_Position_Limit", name, cal.range_max, normalize=False)
        if cache:
            self.calibration = dict(calibration)

    @property
    def is_calibrated(self) -> bool:
        if not self.calibration or set(self.calibration) != set(self.motors):
            return False
        motors = self.read_calibration()
        return all((motors[n].homing_offset, motors[n].range_min, motors[n].range_max)
                   == (c.homing_offset, c.range_min, c.range_max) for n, c in self.calibration.items())

    def configure_motors(self, return_delay_time: int = 0, maximum_acceleration: int = 254,
                         acceleration: int = 254) -> None:
        """LeRobot's recommended settings: shortest answer delay, fast acceleration, angle feedback mode 0."""
        for name, m in self.motors.items():
            self.write("Return_Delay_Time", name, return_delay_time)
            self.write("Maximum_Acceleration", name, maximum_acceleration)
            self.write("Acceleration", name, acceleration)
            if m.model == "sts3215":
                phase = self.read("Phase", name, normalize=False)
                if phase & 0x10:
                    self.write("Phase", name, phase & ~0x10)
