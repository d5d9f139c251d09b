"""Video decoding: nearest frames for requested timestamps, in AV1, H.264 and HEVC, one pass per call."""

from fractions import Fraction

import av
import numpy as np
import pytest
import torch

from lerobot_fn.data import DatasetFileError, FrameTimestampError
from lerobot_fn.data.video import FrameRequest, VideoDecoder, nearest_frames

FPS = 10
BACKENDS = ["pyav", "torchcodec"]  # `make install` installs torchcodec and `make test` FFmpeg's libraries


def _encode(path, codec, n=40, h=48, w=64, gop=6):
    """A real mp4 whose frame k is a distinct pattern, pts k/FPS."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (h, w, 3), dtype=np.uint8)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = Fraction(1, FPS)
        stream.codec_context.gop_size = gop
        for k in range(n):
            img = np.roll(base, 3 * k, axis=1)
            img[:4, :4] = k * 6  # a marker that differs per frame
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = k
            for pkt in stream.encode(frame):
                out.mux(pkt)
        for pkt in stream.encode():
            out.mux(pkt)
    return path


def _all_frames(path):
    with av.open(str(path)) as c:
        return torch.stack(
            [torch.from_numpy(f.to_ndarray(format="rgb24")).permute(2, 0, 1) for f in c.decode(video=0)]
        )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("codec", ["h264", "hevc"])
def test_h264_and_hevc_frames_match_a_full_sequential_decode(tmp_path, codec, backend):
    path = _encode(tmp_path / f"{codec}.mp4", codec)
    truth = _all_frames(path)
    dec = VideoDecoder(backend)
    for ks in ([0], [39], [17, 3, 25, 3], [8, 9, 10, 11, 12, 13, 14]):
        got = dec.decode(path, [k / FPS for k in ks], 1e-4, episode_index=0)
        assert got.dtype == torch.uint8 and got.shape == (len(ks), 3, 48, 64)
        assert torch.equal(got, truth[ks])


@pytest.mark.parametrize("backend", BACKENDS)
def test_av1_fixture_frames_match_a_full_sequential_decode(dataset_fixtures, backend):
    path = dataset_fixtures / "pusht_mini/videos/observation.image/chunk-000/file-000.mp4"
    truth = _all_frames(path)
    dec = VideoDecoder(backend)
    ks = [107, 0, 54, 55, 30]
    assert torch.equal(dec.decode(path, [k / FPS for k in ks], 1e-4), truth[ks])


@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
@pytest.mark.parametrize("backend", BACKENDS)
def test_requests_of_one_file_decoded_together_fill_each_requests_frames(tmp_path, backend, dtype):
    path = _encode(tmp_path / "cam.mp4", "h264")
    truth = _all_frames(path)
    wanted = [[30, 2], [2], [17, 18, 17], [39]]  # frame 2 in two requests, 17 twice in one
    outs = [torch.empty((len(ks), 3, 48, 64), dtype=dtype) for ks in wanted]
    requests = [FrameRequest([k / FPS for k in ks], e, out) for e, (ks, out) in enumerate(zip(wanted, outs))]
    got = VideoDecoder(backend).decode_many(path, requests, 1e-4)
    for ks, out, g in zip(wanted, outs, got):
        assert g is out
        assert torch.equal(out, truth[ks] if dtype == torch.uint8 else truth[ks].float() / 255), ks


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_frame_off_the_grid_in_a_group_names_its_own_requests_episode(tmp_path, backend):
    path = _encode(tmp_path / "cam.mp4", "h264")
    requests = [FrameRequest([0.0], 3), FrameRequest([0.1, 0.25], 8), FrameRequest([0.3], 5)]
    with pytest.raises(FrameTimestampError, match=r"cam\.mp4 \(episode 8\).*0\.250000s"):
        VideoDecoder(backend).decode_many(path, requests, 1e-4)


@pytest.mark.parametrize("opencv", [True, False], ids=["opencv", "numpy"])
def test_torchcodec_frames_into_uint8_and_float32_with_or_without_opencv(tmp_path, monkeypatch, opencv):
    from lerobot_fn.data import video

    if not opencv:  # OpenCV comes with the torchcodec extra; without it numpy deinterleaves
        monkeypatch.setattr(video, "_opencv", lambda: None)
    path = _encode(tmp_path / "h264.mp4", "h264")
    truth = _all_frames(path)
    dec = VideoDecoder("torchcodec")
    ks = [17, 3, 25, 3]
    u8 = dec.decode(path, [k / FPS for k in ks], 1e-4, out=torch.zeros((4, 3, 48, 64), dtype=torch.uint8))
    f32 = dec.decode(path, [k / FPS for k in ks], 1e-4, out=torch.zeros((4, 3, 48, 64)))
    assert torch.equal(u8, truth[ks])
    assert torch.equal(f32, truth[ks].float() / 255)  # the same float32 values as LeRobot's `/ 255`


def test_open_containers_are_reused_and_closed(dataset_fixtures):
    path = dataset_fixtures / "pusht_mini/videos/observation.image/chunk-000/file-000.mp4"
    dec = VideoDecoder(max_open=1)
    dec.decode(path, [0.5], 1e-4)
    (first,) = next(iter(dec._files.values()))
    dec.decode(path, [0.2], 1e-4)  # seeking backwards in the same open file
    assert next(iter(dec._files.values())) == [first] and len(dec._files) == 1
    dec.close()
    assert not dec._files


def test_nearest_frame_beyond_tolerance_names_file_episode_and_timestamps(tmp_path):
    with pytest.raises(FrameTimestampError, match=r"cam\.mp4 \(episode 4\).*0\.130000s.*0\.100000s"):
        nearest_frames([0.0, 0.13], [0.0, 0.1, 0.2], 1e-4, path=tmp_path / "cam.mp4", episode_index=4)
    assert nearest_frames([0.1 + 5e-5], [0.0, 0.1, 0.2], 1e-4, path=tmp_path, episode_index=0).tolist() == [1]


@pytest.mark.parametrize("backend", BACKENDS)
def test_request_past_the_end_of_the_video_is_a_timestamp_error(tmp_path, backend):
    path = _encode(tmp_path / "short.mp4", "h264", n=10)
    with pytest.raises((FrameTimestampError, DatasetFileError), match=r"short\.mp4 \(episode 1\)"):
        VideoDecoder(backend).decode(path, [2.0], 1e-4, episode_index=1)


def test_unknown_backend_is_rejected():
    with pytest.raises(ValueError, match="video_backend"):
        VideoDecoder("opencv")
