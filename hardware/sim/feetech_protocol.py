"""Feetech SCS/STS protocol (the Dynamixel 1.0 framing): parse instruction packets, answer with
status packets.

    instruction: FF FF ID LEN INST PARAM... CHK      status: FF FF ID LEN ERR PARAM... CHK
    LEN = number of bytes after it; CHK = ~(ID + LEN + INST/ERR + PARAMS) & 0xFF

Instructions: PING 0x01, READ 0x02, WRITE 0x03, REG_WRITE 0x04, ACTION 0x05, SYNC_READ 0x82,
SYNC_WRITE 0x83. Broadcast id 0xFE: no status, except PING (every servo answers, in id order) and
SYNC_READ (the listed servos answer in list order).
"""

from __future__ import annotations

from .chain import ServoChain, reply, run_pending

BROADCAST = 0xFE
PING, READ, WRITE, REG_WRITE, ACTION, SYNC_READ, SYNC_WRITE = 0x01, 0x02, 0x03, 0x04, 0x05, 0x82, 0x83


def checksum(body: bytes | list[int]) -> int:
    return ~sum(body) & 0xFF


def status_packet(motor_id: int, error: int, params: bytes = b"") -> bytes:
    body = bytes([motor_id, len(params) + 2, error]) + bytes(params)
    return b"\xff\xff" + body + bytes([checksum(body)])


class FeetechParser:
    """Accumulates bytes; `packets()` yields complete, checksum-valid (id, instruction, params)."""

    def __init__(self):
        self.buffer = bytearray()
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        self.buffer.extend(data)

    def packets(self):
        buf = self.buffer
        while True:
            start = buf.find(b"\xff\xff")
            if start < 0:
                del buf[:max(0, len(buf) - 1)]
                return
            del buf[:start]
            if len(buf) > 2 and buf[2] == 0xFF:  # FF FF FF: the first FF is noise
                del buf[0]
                continue
            if len(buf) < 4:
                return
            length = buf[3]
            if length < 2:
                del buf[:2]
                continue
            total = 4 + length
            if len(buf) < total:
                return
            packet = bytes(buf[:total])
            del buf[:total]
            if checksum(packet[2:-1]) != packet[-1]:
                self.dropped += 1  # a real servo ignores a packet with a bad checksum
                continue
            yield packet[2], packet[4], packet[5:-1]


def _reply(chain: ServoChain, servo, error: int, params: bytes = b"", *, as_id: int | None = None) -> list[bytes]:
    return reply(chain, servo, error, params, status_packet=status_packet, as_id=as_id)


def handle(chain: ServoChain, motor_id: int, inst: int, params: bytes) -> list[bytes]:
    """Status packets answering one instruction packet."""
    chain.packets += 1
    if motor_id == BROADCAST:
        return _broadcast(chain, inst, params)
    servo = chain.by_id(motor_id)
    if servo is None:
        return []
    level = servo.get("Response_Status_Level")
    if inst == PING:
        return _reply(chain, servo, servo.status_error())
    if inst == READ and len(params) == 2:
        error, data = servo.read(params[0], params[1])
        return _reply(chain, servo, error, data)
    if inst in (WRITE, REG_WRITE) and len(params) >= 2:
        if inst == WRITE:
            error = servo.write(params[0], params[1:])
        else:
            servo.pending = (params[0], params[1:])
            error = servo.status_error()
        return _reply(chain, servo, error, as_id=motor_id) if level else []
    if inst == ACTION:
        run_pending(servo)
        return _reply(chain, servo, servo.status_error()) if level else []
    return _reply(chain, servo, 0x08) if level else []  # unknown instruction


def _broadcast(chain: ServoChain, inst: int, params: bytes) -> list[bytes]:
    if inst == PING:
        out = []
        for servo in sorted(chain.live(), key=lambda s: s.id):
            out += _reply(chain, servo, servo.status_error())
        return out
    if inst == SYNC_READ and len(params) >= 2:
        address, length = params[0], params[1]
        out = []
        for motor_id in params[2:]:
            servo = chain.by_id(motor_id)
            if servo is not None:
                error, data = servo.read(address, length)
                out += _reply(chain, servo, error, data)
        return out
    if inst == SYNC_WRITE and len(params) >= 2:
        address, length = params[0], params[1]
        body = params[2:]
        for i in range(0, len(body) - length, length + 1):
            servo = chain.by_id(body[i])
            if servo is not None:
                servo.write(address, body[i + 1: i + 1 + length])
        return []
    if inst == WRITE and len(params) >= 2:
        for servo in chain.live():
            servo.write(params[0], params[1:])
    elif inst == ACTION:
        for servo in chain.live():
            run_pending(servo)
    return []
