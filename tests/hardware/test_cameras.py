"""Cameras read by background threads: the synthetic moving pattern, an OpenCV camera reading a real
video file (index or path works alike), timeouts and a camera that stops delivering."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest

from hardware.cameras import CameraConfig, CameraTimeout, SyntheticCamera, frame_number, make_camera
from hardware.cameras.opencv import OpenCVCamera


def test_synthetic_camera_moves_and_read_latest_never_waits():
    with SyntheticCamera(32, 24, fps=50) as cam:
        first = cam.async_read(timeout_ms=10_000)  # the bound a loaded machine may need, not the frame time
        assert first.shape == (24, 32, 3) and first.dtype == np.uint8
        later = cam.async_read(timeout_ms=10_000)
        assert frame_number(later) > frame_number(first)
        assert not np.array_equal(later[1:], first[1:])  # the pattern moves
        assert cam.read_latest().shape == (24, 32, 3)
    assert not cam.is_connected


def test_stale_frames_and_missing_frames_time_out_with_the_camera_named():
    cam = SyntheticCamera(16, 12, fps=1, name="wrist")  # the next frame 1 s away: late even on a loaded machine
    with cam:
        with pytest.raises(CameraTimeout, match="'wrist'.*no new frame within 50 ms"):
            cam.async_read(timeout_ms=50)
        time.sleep(0.1)
        with pytest.raises(CameraTimeout, match="'wrist'.*ms old"):
            cam.read_latest(max_age_ms=50)
    with pytest.raises(RuntimeError, match="not connected"):
        cam.read_latest()


def write_video(path, frames=20, size=(40, 30)):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 20, size)
    assert writer.isOpened()
    for k in range(frames):
        image = np.zeros((size[1], size[0], 3), dtype=np.uint8)
        image[:, :, 2] = 200  # red in BGR
        image[:, k % size[0]] = 255
        writer.write(image)
    writer.release()


def test_opencv_camera_reads_rgb_rotates_and_reports_the_end_of_the_stream(tmp_path):
    video = tmp_path / "clip.avi"
    write_video(video)
    config = CameraConfig(type="opencv", index_or_path=str(video), width=40, height=30, fps=20, rotation=90)
    cam = make_camera(config, "front")
    assert isinstance(cam, OpenCVCamera)
    with cam:
        frame = cam.async_read(timeout_ms=10_000)
        assert frame.shape == (40, 30, 3)  # rotated by 90 degrees
        assert frame[..., 0].mean() > 150 and frame[..., 2].mean() < 100  # BGR turned into RGB
        deadline = time.monotonic() + 60
        with pytest.raises(RuntimeError, match="stopped delivering frames.*returned no frame"):
            while time.monotonic() < deadline:
                cam.async_read(timeout_ms=10_000)  # the end of the stream, not a timeout of a starved reader


def test_opencv_refuses_a_missing_device_and_a_wrong_size(tmp_path):
    with pytest.raises(ConnectionError, match="could not open camera.*so101_find_cameras"):
        OpenCVCamera(str(tmp_path / "nothing.avi")).connect()
    video = tmp_path / "clip.avi"
    write_video(video)
    with pytest.raises(ConnectionError, match="gives 40x30, not the 640x480"):
        OpenCVCamera(str(video), width=640, height=480).connect()
