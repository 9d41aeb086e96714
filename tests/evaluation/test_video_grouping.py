"""Still images listed without video_id are scored each as its own video, and the log
says how the video scores were grouped.

Eight photos in one folder, four real and four fake: frame AUC is 10 of 16 pairs, 62.5.
Pooled by folder into one real and one fake "video" (mean .45 against .5625) the video
AUC would be 100: the trap a list of one's own photos fell into.
"""
import cv2
import numpy as np
import pytest
import torch

from dadf_mm.datasets import ForgeryFolderDataset, write_annotations
from dadf_mm.evaluation import ForgeryMetric

PIPELINE = [dict(type='LoadForgeryImage'), dict(type='LoadForgeryAnnotations'),
            dict(type='PackForgeryInputs')]
REAL_SCORES = [0.1, 0.4, 0.6, 0.7]
FAKE_SCORES = [0.2, 0.5, 0.65, 0.9]  # beat 1, 2, 3 and 4 of the reals: 10 of 16 pairs


def photos(tmp_path, video_ids=None):
    records = []
    for k, label in enumerate([0] * 4 + [1] * 4):
        name = f'photos/{k}.png'
        (tmp_path / 'photos').mkdir(exist_ok=True)
        assert cv2.imwrite(str(tmp_path / name), np.full((4, 4, 3), 30 * k, np.uint8))
        record = dict(img_path=name, label=label)
        if video_ids is not None:
            record['video_id'] = video_ids[k]
        records.append(record)
    write_annotations(str(tmp_path / 'list.jsonl'), records)


def scored(tmp_path, **dataset_args):
    dataset = ForgeryFolderDataset(ann_file=str(tmp_path / 'list.jsonl'),
                                   data_root=str(tmp_path), pipeline=PIPELINE, **dataset_args)
    metric = ForgeryMetric(localization=False)
    for k, score in enumerate(REAL_SCORES + FAKE_SCORES):
        sample = dataset[k]['data_samples']
        sample.pred_score = torch.tensor(score)
        metric.process(None, [sample.to_dict()])
    return metric.evaluate(len(dataset))


def test_stills_without_video_id_are_each_their_own_video(tmp_path, logged):
    photos(tmp_path)
    result = scored(tmp_path)
    assert result['AUC'] == pytest.approx(62.5)
    assert result['video_AUC'] == pytest.approx(62.5)  # was 100: one folder, two "videos"
    assert result['video_ACC'] == result['ACC']
    assert ('ForgeryMetric: video metrics over 8 videos (each image its own video: the list '
            'gives no video_id, so video scores equal frame scores; give video_id to group '
            'frames)') in logged


def test_folder_grouping_is_asked_for_and_said(tmp_path, logged):
    photos(tmp_path)
    result = scored(tmp_path, video_id_from='folder')
    assert result['video_AUC'] == pytest.approx(100.0)  # .5625 against .45
    assert ('ForgeryMetric: video metrics over 2 videos (grouped by folder: the list gives '
            'no video_id)') in logged


def test_listed_video_ids_group_frames(tmp_path, logged):
    # reals in clips a (.1 .6) and b (.4 .7), fakes in c (.2 .65) and d (.5), and one fake
    # photo left without a video_id is its own video
    photos(tmp_path, ['a', 'b', 'a', 'b', 'c', 'd', 'c', ''])
    result = scored(tmp_path)
    # videos: reals .35 .55; fakes .425 (c), .5 (d), .9 (photos/7.png)
    # pairs won: .425 > .35, .5 > .35, .9 > both: 4 of 6
    assert result['video_AUC'] == pytest.approx(100 * 4 / 6)
    assert ('ForgeryMetric: video metrics over 5 videos (7 images grouped by video_id, '
            '1 image without video_id each its own video)') in logged
