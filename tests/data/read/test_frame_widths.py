"""Video frames of any width read as LeRobot reads them (PyAV rgb24), also widths whose planar RGB
conversion in FFmpeg's swscale leaves the last columns empty (40, 72: width % 16 in 1..8),
and an images_to_video conversion reads back as its source images within the codec's loss."""

import av
import numpy as np
import pytest
import torch

from lerobot_fn import data
from lerobot_fn.data import tools
from lerobot_fn.data.video import VideoDecoder


def _pyav_frames(path) -> torch.Tensor:
    """Every frame of a video as LeRobot's PyAV decoder gives it (rgb24 -> CHW uint8)."""
    with av.open(str(path)) as c:
        return torch.stack(
            [torch.from_numpy(f.to_ndarray(format="rgb24")).permute(2, 0, 1) for f in c.decode(video=0)]
        )


def _images(ds, key: tuple[str, ...]) -> torch.Tensor:
    return torch.stack([ds[i][key] for i in range(len(ds))])


def _write_video(path, width: int, height: int, n: int = 4) -> None:
    y, x = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        for i in range(n):
            img = np.stack([x * 255 // width, y * 10, np.full_like(x, 60 * i)], -1).astype(np.uint8)
            c.mux(s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
        c.mux(s.encode())


@pytest.mark.parametrize("width", [40, 72, 100, 64])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_frames_of_every_width_equal_pyavs_rgb24_frames(tmp_path, width, dtype):
    height = 24
    path = tmp_path / f"w{width}.mp4"
    _write_video(path, width, height)
    want = _pyav_frames(path)
    decoder = VideoDecoder()
    out = torch.empty((4, 3, height, width), dtype=dtype)
    decoder.decode(path, [0.0, 0.1, 0.2, 0.3], 0.04, out=out)
    decoder.close()
    assert torch.equal(out, want if dtype == torch.uint8 else want.float() / 255)


def test_images_to_video_reads_back_as_its_source_images(dataset_fixtures, tmp_path):
    src = data.open(dataset_fixtures / "images_inline_mini", return_uint8=True)
    out = tools.images_to_video(dataset_fixtures / "images_inline_mini", tmp_path / "videos")
    ds = data.open(out, return_uint8=True)
    key = ("observation", "images", "cam")
    assert len(ds) == len(src) == 57
    want = _images(src, key).float()
    got = _images(ds, key).float()
    assert got.shape == want.shape == (57, 3, 32, 40)
    # lossy AV1: every frame, and its last columns too, close to its own source image and
    # farther from its neighbours' (same order, no frame shifted)
    diff = (got - want).abs().mean(dim=(1, 2))  # (frame, column)
    assert diff.mean(dim=1).max() < 12, diff.mean(dim=1)
    assert diff[:, -8:].mean(dim=1).max() < 16, diff[:, -8:].mean(dim=1)
    per_frame = (got - want).abs().mean(dim=(1, 2, 3))
    shifted = (got[1:] - want[:-1]).abs().mean(dim=(1, 2, 3))
    assert (per_frame[1:] < shifted).float().mean() > 0.9
    # and exactly what LeRobot's PyAV reader gives for the same files
    for e in ds.episodes:
        start, end = ds.meta.episode_range(e)
        first = round(ds.meta.video_from_timestamp(e, "observation.images.cam") * ds.meta.fps)
        frames = _pyav_frames(ds.root / ds.meta.video_file(e, "observation.images.cam"))
        assert torch.equal(_images(ds, key)[start:end], frames[first : first + end - start])
    ds.close()
    src.close()
