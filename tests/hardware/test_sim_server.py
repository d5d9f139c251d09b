"""`python -m hardware.sim` serves a simulated arm on a pty linked at a path until it is killed; the
protocol codecs frame, checksum and stuff packets as the SDKs expect."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import scservo_sdk as scs

from hardware.sim import dynamixel_protocol as dxp
from hardware.sim import feetech_protocol as ftp

REPO = Path(__file__).resolve().parents[2]


def test_command_line_simulator_answers_the_sdk_and_cleans_up_on_sigterm(tmp_path):
    link = tmp_path / "so101"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hardware.sim", "--robot", "so101_follower", "--link", str(link)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509 (SIGINT at its default)
    try:
        deadline = time.monotonic() + 30
        while not link.is_symlink() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        assert link.is_symlink(), proc.stderr.read() if proc.poll() is not None else "no link after 30 s"
        port = scs.PortHandler(str(link))
        assert port.openPort()
        packets = scs.PacketHandler(0)
        # the SDK gives a reply a few ms; on a loaded machine the server's first reply can miss that
        answered, deadline = packets.ping(port, 6), time.monotonic() + 10
        while answered[1] == scs.COMM_RX_TIMEOUT and time.monotonic() < deadline:
            answered = packets.ping(port, 6)
        assert answered == (777, scs.COMM_SUCCESS, 0)
        port.closePort()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "serving on" in out and "simulator stopped" in out
        assert not link.exists() and not link.is_symlink()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)
    assert proc.poll() is not None


def test_feetech_framing_and_checksum():
    packet = ftp.status_packet(3, 0x20, b"\x01\x02")
    assert packet == bytes([0xFF, 0xFF, 3, 4, 0x20, 1, 2, ~(3 + 4 + 0x20 + 1 + 2) & 0xFF])
    parser = ftp.FeetechParser()
    good = bytes([0xFF, 0xFF, 1, 4, 2, 56, 2]) + bytes([ftp.checksum([1, 4, 2, 56, 2])])
    bad = good[:-1] + bytes([good[-1] ^ 1])
    parser.feed(b"\x00\xff" + bad + good[:5])
    assert list(parser.packets()) == [] and parser.dropped == 1
    parser.feed(good[5:])
    assert list(parser.packets()) == [(1, 2, bytes([56, 2]))]


def test_dynamixel_crc_and_byte_stuffing_match_the_sdk():
    import dynamixel_sdk as dxl

    handler = dxl.PacketHandler(2.0)
    data = bytes([0x01, 0xFF, 0xFF, 0xFD, 0x07])
    packet = dxp.status_packet(9, 0, data)
    assert handler.updateCRC(0, list(packet[:-2]), len(packet) - 2) == int.from_bytes(packet[-2:], "little")
    assert b"\xff\xff\xfd\xfd" in packet[7:]  # stuffed
    assert dxp.unstuff(dxp.stuff(data)) == data
    parser = dxp.DynamixelParser()
    parser.feed(packet)
    assert list(parser.packets()) == [(9, dxp.STATUS, bytes([0]) + data)]
