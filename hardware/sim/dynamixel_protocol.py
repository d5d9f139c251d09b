"""Dynamixel protocol 2.0: parse instruction packets (byte stuffing, CRC-16), answer with status packets.

    FF FF FD 00 ID LEN_L LEN_H INST PARAM... CRC_L CRC_H     (LEN = INST + PARAMS + CRC, after stuffing)
    status: INST = 0x55, first parameter = ERR (bit 7 alert, low 7 bits an error number)
    stuffing: FF FF FD inside the payload is sent as FF FF FD FD

Instructions: PING 0x01, READ 0x02, WRITE 0x03, REG_WRITE 0x04, ACTION 0x05, REBOOT 0x08,
SYNC_READ 0x82, SYNC_WRITE 0x83. Broadcast 0xFE: PING (every servo answers, in id order) and
SYNC_READ (listed servos in list order) answer; the rest do not.
"""

from __future__ import annotations

from hardware.motors import dynamixel_tables as dxt

from .chain import ServoChain, reply, run_pending

BROADCAST = 0xFE
PING, READ, WRITE, REG_WRITE, ACTION, REBOOT, STATUS, SYNC_READ, SYNC_WRITE = (
    0x01, 0x02, 0x03, 0x04, 0x05, 0x08, 0x55, 0x82, 0x83)
HEADER = b"\xff\xff\xfd\x00"


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_TABLE = _crc_table()


def crc16(data: bytes) -> int:
    """CRC-16 (polynomial 0x8005, initial 0), as ROBOTIS' `updateCRC`."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) ^ _TABLE[((crc >> 8) ^ byte) & 0xFF]) & 0xFFFF
    return crc


def stuff(payload: bytes) -> bytes:
    out = bytearray()
    for b in payload:
        out.append(b)
        if b == 0xFD and len(out) >= 3 and out[-3:-1] == b"\xff\xff":
            out.append(0xFD)
    return bytes(out)


def unstuff(payload: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(payload):
        out.append(payload[i])
        if payload[i] == 0xFD and i >= 2 and payload[i - 2:i] == b"\xff\xff" and payload[i + 1:i + 2] == b"\xfd":
            i += 1  # skip the stuffed FD
        i += 1
    return bytes(out)


def status_packet(motor_id: int, error: int, params: bytes = b"") -> bytes:
    body = stuff(bytes([STATUS, error]) + bytes(params))
    head = HEADER + bytes([motor_id]) + (len(body) + 2).to_bytes(2, "little")
    packet = head + body
    return packet + crc16(packet).to_bytes(2, "little")


class DynamixelParser:
    """Accumulates bytes; `packets()` yields complete, CRC-valid (id, instruction, params) (unstuffed)."""

    def __init__(self):
        self.buffer = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        self.buffer.extend(data)

    def packets(self):
        buf = self.buffer
        while True:
            start = buf.find(b"\xff\xff\xfd")
            if start < 0:
                del buf[:max(0, len(buf) - 2)]
                return
            del buf[:start]
            if len(buf) < 7:
                return
            if buf[3] != 0x00:
                del buf[:3]
                continue
            length = int.from_bytes(buf[5:7], "little")
            total = 7 + length
            if length < 3 or length > 1024:
                del buf[:3]
                continue
            if len(buf) < total:
                return
            packet = bytes(buf[:total])
            del buf[:total]
            if crc16(packet[:-2]) != int.from_bytes(packet[-2:], "little"):
                self.dropped += 1  # a real servo drops it (or answers a CRC error); the SDK times out
                continue
            payload = unstuff(packet[7:-2])
            yield packet[4], payload[0], payload[1:]


def _level(servo) -> int:
    return servo.get("Status_Return_Level")


def _reply(chain: ServoChain, servo, error: int, params: bytes = b"", *, as_id: int | None = None) -> list[bytes]:
    return reply(chain, servo, error, params, status_packet=status_packet, as_id=as_id)


def _ping_params(servo) -> bytes:
    return servo.model_number.to_bytes(2, "little") + bytes([servo.get("Firmware_Version")])


def handle(chain: ServoChain, motor_id: int, inst: int, params: bytes) -> list[bytes]:
    chain.packets += 1
    if motor_id == BROADCAST:
        return _broadcast(chain, inst, params)
    servo = chain.by_id(motor_id)
    if servo is None:
        return []
    if inst == PING:
        return _reply(chain, servo, servo.status_error(), _ping_params(servo))
    if inst == READ and len(params) == 4:
        address, length = int.from_bytes(params[:2], "little"), int.from_bytes(params[2:], "little")
        error, data = servo.read(address, length)
        return _reply(chain, servo, error, data) if _level(servo) >= 1 else []
    if inst in (WRITE, REG_WRITE) and len(params) >= 3:
        address = int.from_bytes(params[:2], "little")
        if inst == WRITE:
            error = servo.write(address, params[2:])
        else:
            servo.pending = (address, params[2:])
            error = servo.status_error()
        return _reply(chain, servo, error, as_id=motor_id) if _level(servo) >= 2 else []
    if inst == ACTION:
        run_pending(servo)
        return _reply(chain, servo, servo.status_error()) if _level(servo) >= 2 else []
    if inst == REBOOT:
        servo.set_overload(False)
        servo.set("Torque_Enable", 0)
        return _reply(chain, servo, 0) if _level(servo) >= 2 else []
    return _reply(chain, servo, dxt.ERR_INSTRUCTION)


def _broadcast(chain: ServoChain, inst: int, params: bytes) -> list[bytes]:
    if inst == PING:
        out = []
        for servo in sorted(chain.live(), key=lambda s: s.id):
            out += _reply(chain, servo, servo.status_error(), _ping_params(servo))
        return out
    if inst == SYNC_READ and len(params) >= 4:
        address, length = int.from_bytes(params[:2], "little"), int.from_bytes(params[2:4], "little")
        out = []
        for motor_id in params[4:]:
            servo = chain.by_id(motor_id)
            if servo is not None:
                error, data = servo.read(address, length)
                out += _reply(chain, servo, error, data)
        return out
    if inst == SYNC_WRITE and len(params) >= 4:
        address, length = int.from_bytes(params[:2], "little"), int.from_bytes(params[2:4], "little")
        body = params[4:]
        for i in range(0, len(body) - length, length + 1):
            servo = chain.by_id(body[i])
            if servo is not None:
                servo.write(address, body[i + 1: i + 1 + length])
        return []
    if inst == WRITE and len(params) >= 3:
        for servo in chain.live():
            servo.write(int.from_bytes(params[:2], "little"), params[2:])
    elif inst == ACTION:
        for servo in chain.live():
            run_pending(servo)
    return []
