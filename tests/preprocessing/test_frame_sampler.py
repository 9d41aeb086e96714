import os

import cv2
import numpy as np
import pytest

from dadf_mm.preprocessing import frame_sampler
from dadf_mm.preprocessing.frame_sampler import (
    FrameReadError,
    evenly_spaced_indices,
    read_frames,
    sample_frames,
)

LEVEL = 17  # frame k is filled with grey value k * LEVEL, so it can be told apart


def write_numbered_video(path, count, size=64):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 25, (size, size))
    assert writer.isOpened()
    for k in range(count):
        writer.write(np.full((size, size, 3), k * LEVEL, np.uint8))
    writer.release()


def frame_numbers(frames):
    return [int(round(f.mean() / LEVEL)) for f in frames]


def test_evenly_spaced_indices_hand_computed():
    assert evenly_spaced_indices(12, 4) == [1, 4, 7, 10]  # centres of [0,3), [3,6), ...
    assert evenly_spaced_indices(10, 3) == [1, 5, 8]
    assert evenly_spaced_indices(3, 5) == [0, 1, 2]
    assert evenly_spaced_indices(0, 5) == []
    idx = evenly_spaced_indices(300, 32)
    assert len(set(idx)) == 32 and idx == sorted(idx) and 0 <= idx[0] and idx[-1] < 300


def test_samples_the_right_frames(tmp_path):
    path = tmp_path / 'v.mp4'
    write_numbered_video(path, 12)
    got = sample_frames(str(path), 4)
    assert got.total == 12 and got.indices == [1, 4, 7, 10]
    assert frame_numbers(got.frames) == [1, 4, 7, 10]


@pytest.mark.parametrize('reported', [20, 7, 0])
def test_wrong_container_frame_count(tmp_path, monkeypatch, reported):
    path = tmp_path / 'v.mp4'
    write_numbered_video(path, 12)
    monkeypatch.setattr(frame_sampler, '_reported_count', lambda _: reported)
    got = sample_frames(str(path), 4)
    assert got.total == 12 and got.indices == [1, 4, 7, 10]
    assert frame_numbers(got.frames) == [1, 4, 7, 10]


def test_read_frames_reports_true_count(tmp_path):
    path = tmp_path / 'v.mp4'
    write_numbered_video(path, 9)
    got = read_frames(str(path), [1, 4, 7, 10])
    assert got.total == 9 and got.indices == [1, 4, 7]
    assert frame_numbers(got.frames) == [1, 4, 7]


def test_frame_folder_in_natural_order(tmp_path):
    for k in range(12):  # VidTIMIT style: JPEG files named 001, 002, ... without extension
        ok, data = cv2.imencode('.jpg', np.full((32, 32, 3), k * LEVEL, np.uint8))
        (tmp_path / f'{k + 1:d}').write_bytes(data.tobytes())
    got = sample_frames(str(tmp_path), 4)
    assert got.total == 12 and frame_numbers(got.frames) == [1, 4, 7, 10]


def test_frame_folder_counts_only_images(tmp_path):
    """Was: every file was a frame, so a note or Thumbs.db beside the PNGs of a sequence
    shifted the sampled frames (or failed the sequence)."""
    for k in range(12):
        ok, data = cv2.imencode('.png', np.full((32, 32, 3), k * LEVEL, np.uint8))
        (tmp_path / f'{k}.png').write_bytes(data.tobytes())
    (tmp_path / 'Thumbs.db').write_bytes(os.urandom(100))
    (tmp_path / 'readme.txt').write_text('frames of sequence 3')
    got = sample_frames(str(tmp_path), 4)
    assert got.total == 12 and frame_numbers(got.frames) == [1, 4, 7, 10]


def test_unreadable_video_names_the_file(tmp_path):
    path = tmp_path / 'broken.mp4'
    path.write_bytes(os.urandom(2000))
    with pytest.raises(FrameReadError, match='unreadable video.*broken.mp4'):
        sample_frames(str(path), 4)
    with pytest.raises(FrameReadError, match='missing.mp4'):
        sample_frames(str(tmp_path / 'missing.mp4'), 4)
