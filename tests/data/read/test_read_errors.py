"""Bad input gets a clear error naming what and where (real broken copies of the fixtures)."""

import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lerobot_fn import data
from lerobot_fn.data import DatasetFileError, DatasetVersionError, DeltaTimestampsError, FrameTimestampError


@pytest.fixture
def copy_fixture(dataset_fixtures, tmp_path):
    def _copy(name):
        dst = tmp_path / name
        shutil.copytree(dataset_fixtures / name, dst)
        for p in [dst, *dst.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
        return dst

    return _copy


def _truncate(path, keep=0.4):
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])


def test_missing_data_parquet_names_the_file(copy_fixture):
    root = copy_fixture("images_inline_mini")
    (root / "data/chunk-000/file-001.parquet").unlink()
    with pytest.raises(DatasetFileError, match=r"chunk-000/file-001\.parquet"):
        data.open(root)
    # episodes stored in other files still open
    assert len(data.open(root, episodes=[0])) == 18


def test_truncated_data_parquet_names_the_file(copy_fixture):
    root = copy_fixture("pusht_mini")
    _truncate(root / "data/chunk-000/file-000.parquet")
    with pytest.raises(DatasetFileError, match=r"data/chunk-000/file-000\.parquet.*truncated or corrupt"):
        data.open(root)


def test_missing_video_names_file_feature_and_episode(copy_fixture):
    root = copy_fixture("aloha_sim_mini")
    (root / "videos/observation.images.left_wrist/chunk-000/file-000.mp4").unlink()
    with pytest.raises(DatasetFileError, match=r"left_wrist/chunk-000/file-000\.mp4.*episode 0"):
        data.open(root)


@pytest.mark.parametrize("backend", ["pyav", "torchcodec"])
def test_truncated_mp4_names_the_file(copy_fixture, backend):
    root = copy_fixture("pusht_mini")
    video = root / "videos/observation.image/chunk-000/file-000.mp4"
    _truncate(video)
    ds = data.open(root, video_backend=backend)  # parquet and meta are fine; the video fails when read
    with pytest.raises(DatasetFileError, match=r"observation\.image/chunk-000/file-000\.mp4"):
        ds[len(ds) - 1]


def test_v21_dataset_says_to_convert(copy_fixture):
    root = copy_fixture("pusht_mini")
    info = json.loads((root / "meta/info.json").read_text())
    info["codebase_version"] = "v2.1"
    (root / "meta/info.json").write_text(json.dumps(info))
    with pytest.raises(DatasetVersionError, match=r"v2\.1.*convert .*dataset\.convert_v21"):
        data.open(root)


def test_unknown_delta_timestamps_key(dataset_fixtures):
    with pytest.raises(DeltaTimestampsError, match=r"observation\.imgs.*known features"):
        data.open(dataset_fixtures / "pusht_mini", delta_timestamps={"observation.imgs": [0.0]})


def test_delta_not_a_multiple_of_one_over_fps(dataset_fixtures):
    with pytest.raises(DeltaTimestampsError, match=r"1/10.*'action': \[0\.05\]"):
        data.open(dataset_fixtures / "pusht_mini", delta_timestamps={"action": [0.0, 0.05]})


def test_frame_further_than_tolerance_names_file_episode_and_timestamps(copy_fixture):
    root = copy_fixture("pusht_mini")
    ep_file = root / "meta/episodes/chunk-000/file-000.parquet"
    table = pq.read_table(ep_file)
    col = "videos/observation.image/from_timestamp"
    shifted = pa.array([v + 0.04 for v in table.column(col).to_pylist()], pa.float64())
    pq.write_table(table.set_column(table.column_names.index(col), col, shifted), ep_file)
    ds = data.open(root)
    with pytest.raises(FrameTimestampError) as err:
        ds[30]  # episode 1, frame 6: requested 2.4 + 0.04 + 0.6 s
    msg = str(err.value)
    assert "file-000.mp4" in msg and "episode 1" in msg
    assert "3.040000" in msg and "3.000000" in msg  # requested vs nearest decoded


def test_missing_dataset_and_unknown_episode(dataset_fixtures, tmp_path):
    with pytest.raises(DatasetFileError, match="no dataset directory"):
        data.open(tmp_path / "nope")
    with pytest.raises(data.DatasetError, match=r"episodes \[7\]"):
        data.open(dataset_fixtures / "pusht_mini", episodes=[0, 7])


def test_index_out_of_range(dataset_fixtures):
    ds = data.open(dataset_fixtures / "pusht_mini")
    with pytest.raises(IndexError, match="108 frames"):
        ds[108]


def test_dataset_without_saved_episodes_says_so(tmp_path):
    from lerobot_fn.data.synthetic import sample_features

    root = tmp_path / "empty"
    data.create(root, fps=10, features=sample_features(16, 16)).finalize()
    with pytest.raises(data.DatasetError, match="no saved episode yet .*total_episodes 0.*data.resume"):
        data.open(root)
