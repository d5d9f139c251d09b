"""The vendor-SDK half of a `MotorsBus` (a mixin): the calls both SDKs name alike (`ping`, `readNByteTxRx`,
`writeTxRx`, `GroupSyncRead` / `GroupSyncWrite`), each returning (value, comm result, status error), and
the hooks a vendor fills in (opening its SDK objects, sign encodings, error texts, broadcast ping)."""

from __future__ import annotations

from typing import Any


class SdkCalls:
    _packet: Any
    _reader: Any
    _writer: Any

    def _open_sdk(self, device: str) -> None:
        raise NotImplementedError

    def _sdk_result_text(self, comm: int) -> str:
        return self._packet.getTxRxResult(comm)

    def _sdk_error_text(self, error: int) -> str:
        raise NotImplementedError

    def _encode(self, register: str, model: str, value: int) -> int:
        raise NotImplementedError

    def _decode(self, register: str, model: str, value: int) -> int:
        raise NotImplementedError

    def _sdk_ping(self, motor_id):
        return self._packet.ping(self._port_handler, motor_id)

    def _sdk_read(self, motor_id, address, size):
        comm = self._packet.readTx(self._port_handler, motor_id, address, size)
        if comm != self.comm_success:
            return None, comm, 0
        data, comm, error = self._read_reply(motor_id, size)
        return (int.from_bytes(bytes(data), "little") if comm == self.comm_success else None), comm, error

    def _rx_packet(self) -> tuple[list[int], int]:
        """One status packet from the SDK: (bytes, comm result)."""
        raise NotImplementedError

    def _reply_data(self, packet: list[int]) -> tuple[int, int, list[int]]:
        """(motor id, status error, data bytes) of a status packet, by its length field."""
        raise NotImplementedError

    def _read_reply(self, motor_id: int, size: int) -> tuple[list[int], int, int]:
        """The `size` data bytes of `motor_id`'s status packet. The SDKs' own `readRx` slices `size` bytes
        whatever the packet holds, so a short reply (a late answer to an earlier request) would come back
        as a wrong value with its checksum in it: here it is a corrupt reply, retried like one."""
        while True:
            packet, comm = self._rx_packet()
            if comm != self.comm_success:
                return [], comm, 0
            reply_id, error, data = self._reply_data(packet)
            if reply_id == motor_id:
                break
        if len(data) != size:
            return [], self.comm_corrupt, 0
        return data, comm, error

    def _sdk_write(self, motor_id, address, size, data):
        comm, error = self._packet.writeTxRx(self._port_handler, motor_id, address, size, data)
        return None, comm, error

    def _sdk_sync_read(self, ids, address, size):
        """`GroupSyncRead` sends; each motor's status is read here so its error is kept (the SDKs' own
        `rxPacket` drops it). Returns ({id: raw}, comm, 0 or (id, error) of the first motor with one)."""
        reader = self._reader
        reader.clearParam()
        reader.start_address, reader.data_length = address, size
        for motor_id in ids:
            reader.addParam(motor_id)
        comm = reader.txPacket()
        if comm != self.comm_success:
            return None, comm, 0
        first_error = 0
        for motor_id in ids:
            data, comm, error = self._read_reply(motor_id, size)
            if comm != self.comm_success:
                return None, comm, 0
            reader.data_dict[motor_id] = data
            if error and not first_error:
                first_error = (motor_id, error)
        reader.last_result = True  # the Dynamixel SDK serves getData only after a complete round
        return {i: reader.getData(i, address, size) for i in ids}, comm, first_error

    def _sdk_sync_write(self, data, address, size):
        writer = self._writer
        writer.clearParam()
        writer.start_address, writer.data_length = address, size
        for motor_id, payload in data.items():
            writer.addParam(motor_id, payload)
        return None, writer.txPacket(), 0

    def broadcast_ping(self, num_retry: int = 0) -> dict[int, int]:
        """{id: model number} of every motor that answers (waits the protocol's full reply window)."""
        raise NotImplementedError

    comm_success = 0
    comm_corrupt = -1
    reply_margin_ms: float | None = None  # wait for a status packet: bytes' transfer time + this (None: SDK's)
    SIM_REPLY_MARGIN_MS = 250.0  # a simulated arm shares the CPU (and the GIL) with this program

