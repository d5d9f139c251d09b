"""Sync read / write through the SDKs' `GroupSyncRead` / `GroupSyncWrite`, keeping each motor's status
error (the SDKs' own `rxPacket` drops it): shared by both vendors, whose group classes match."""

from __future__ import annotations


def sync_read(reader, packet_handler, port_handler, ids: list[int], address: int, size: int, success: int):
    """({id: raw value}, comm result, 0 or (id, status error) of the first motor reporting one)."""
    reader.clearParam()
    reader.start_address, reader.data_length = address, size
    for motor_id in ids:
        reader.addParam(motor_id)
    comm = reader.txPacket()
    if comm != success:
        return None, comm, 0
    first_error = 0
    for motor_id in ids:
        data, comm, error = packet_handler.readRx(port_handler, motor_id, size)
        if comm != success:
            return None, comm, 0
        reader.data_dict[motor_id] = data
        if error and not first_error:
            first_error = (motor_id, error)
    reader.last_result = True  # the Dynamixel SDK serves getData only after a complete round
    return {i: reader.getData(i, address, size) for i in ids}, comm, first_error


def sync_write(writer, data: dict[int, list[int]], address: int, size: int):
    writer.clearParam()
    writer.start_address, writer.data_length = address, size
    for motor_id, payload in data.items():
        writer.addParam(motor_id, payload)
    return None, writer.txPacket(), 0
