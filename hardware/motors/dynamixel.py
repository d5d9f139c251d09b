"""Dynamixel X-series bus (Koch arms) over ROBOTIS' `dynamixel_sdk`, protocol 2.0."""

from __future__ import annotations

import dynamixel_sdk as dxl

from lerobot_fn.robot import MotorCalibration, decode_twos_complement, encode_twos_complement

from . import dynamixel_tables as dxt
from .bus import MotorsBus

PROTOCOL_VERSION = 2.0
STATUS_HINTS = {
    dxt.ERR_ACCESS: "EEPROM registers (addresses below 64) can only be written with torque off, and read-only "
                    "registers never: disable torque first",
    dxt.ERR_DATA_LIMIT: "the value is outside the motor's limits (Min/Max_Position_Limit in position mode)",
    dxt.ERR_DATA_RANGE: "the register range does not exist on this model",
    dxt.ERR_DATA_LENGTH: "the data is shorter than the register",
    dxt.ERR_CRC: "the packet was damaged on the way: check the cable",
}


class DynamixelBus(MotorsBus):
    vendor = "Dynamixel"
    control_table = dxt.CONTROL_TABLE
    model_number = dxt.MODEL_NUMBER
    resolution = dxt.RESOLUTION
    baudrate_table = dxt.BAUDRATE_TABLE
    scan_baudrates = tuple(dxt.BAUDRATE_TABLE)
    apply_drive_mode = False  # the motor applies Drive_Mode itself
    homing_is_subtracted = False
    comm_success = dxl.COMM_SUCCESS
    comm_corrupt = dxl.COMM_RX_CORRUPT

    def _open_sdk(self, device: str) -> None:
        ph = dxl.PortHandler(device)
        self._packet = dxl.PacketHandler(PROTOCOL_VERSION)
        self._reader = dxl.GroupSyncRead(ph, self._packet, 0, 0)
        self._writer = dxl.GroupSyncWrite(ph, self._packet, 0, 0)
        if not ph.openPort():
            raise OSError(f"the Dynamixel SDK could not open {device}")
        self._port_handler = ph

    def _rx_packet(self):
        return self._packet.rxPacket(self._port_handler, False)

    def _reply_data(self, packet):
        # protocol 2.0 status (unstuffed): FF FF FD 00 id len_l len_h 0x55 error params... crc_l crc_h,
        # length = params + 4
        return packet[4], packet[8], packet[9:9 + packet[5] + (packet[6] << 8) - 4]

    def _sdk_error_text(self, error):
        if error & dxt.ERRBIT_ALERT and not error & 0x7F:
            return "a hardware error (alert bit)"
        return self._packet.getRxPacketError(error).removeprefix("[RxPacketError] ")

    def _status_hint(self, error):
        if error & dxt.ERRBIT_ALERT:
            return ("Read its Hardware_Error_Status: overload (0x20) means the joint was blocked or pushed too hard "
                    "and torque is off; free it and reboot the motor (power-cycle) before enabling torque")
        return STATUS_HINTS.get(error & 0x7F, "Check the value written")

    def _encode(self, register, model, value):
        n = dxt.TWOS_COMPLEMENT_BYTES.get(register)
        return encode_twos_complement(value, n) if n is not None else value

    def _decode(self, register, model, value):
        n = dxt.TWOS_COMPLEMENT_BYTES.get(register)
        return decode_twos_complement(value, n) if n is not None else value

    def _sdk_broadcast_ping(self):
        data, comm = self._packet.broadcastPing(self._port_handler)
        if comm == dxl.COMM_RX_TIMEOUT:  # nobody answered: an empty bus, not a failure
            return {}, dxl.COMM_SUCCESS, 0
        return {i: d[0] for i, d in data.items()}, comm, 0

    def broadcast_ping(self, num_retry: int = 0) -> dict[int, int]:
        return self._call("broadcast ping", self._sdk_broadcast_ping, num_retry=num_retry, check_status=False)

    # -- calibration ---------------------------------------------------------------------------
    def _disable_one(self, name, num_retry):
        self.write("Torque_Enable", name, 0, num_retry=num_retry)

    def read_calibration(self) -> dict[str, MotorCalibration]:
        offsets = self.sync_read("Homing_Offset", normalize=False)
        mins = self.sync_read("Min_Position_Limit", normalize=False)
        maxes = self.sync_read("Max_Position_Limit", normalize=False)
        drive = self.sync_read("Drive_Mode", normalize=False)
        return {n: MotorCalibration(id=m.id, drive_mode=int(drive[n]), homing_offset=int(offsets[n]),
                                    range_min=int(mins[n]), range_max=int(maxes[n])) for n, m in self.motors.items()}

    def write_calibration(self, calibration, cache=True):
        """Homing offset, limits and drive mode (LeRobot writes drive mode only while calibrating; a file
        that holds it should restore it too). EEPROM: torque must be off."""
        for name, cal in calibration.items():
            self.write("Drive_Mode", name, cal.drive_mode, normalize=False)
            self.write("Homing_Offset", name, cal.homing_offset, normalize=False)
            self.write("Min_Position_Limit", name, cal.range_min, normalize=False)
            self.write("Max_Position_Limit", name, cal.range_max, normalize=False)
        if cache:
            self.calibration = dict(calibration)

    @property
    def is_calibrated(self) -> bool:
        return bool(self.calibration) and self.read_calibration() == {n: self.calibration.get(n) for n in self.motors}

    def configure_motors(self, return_delay_time: int = 0) -> None:
        for name in self.motors:
            self.write("Return_Delay_Time", name, return_delay_time)
