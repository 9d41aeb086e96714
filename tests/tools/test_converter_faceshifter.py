"""FaceShifter through ffpp.py: the FF++ download has its videos but no mask videos, so
its fakes convert detection-only, while a method whose masks folder lacks one video still
reports that video's mask missing."""
from collections import Counter

import pytest

from dadf_mm.datasets import FFPPDataset
from dadf_mm.datasets.ffpp_splits import ffpp_split_pairs
from tests.helpers.converter_videos import (
    fake_frames,
    load_tool,
    mask_frames,
    read_jsonl,
    real_frames,
    write_h264,
)


@pytest.fixture(scope='module')
def faceshifter_run(tmp_path_factory):
    """FF++ c23, first train pair: two reals; FaceShifter fakes without any masks folder;
    Deepfakes fakes with a masks folder that lacks the second fake's mask."""
    root = tmp_path_factory.mktemp('ffpp')
    t, s = ffpp_split_pairs('train')[0]
    real = root / 'original_sequences' / 'youtube' / 'c23' / 'videos'
    for vid in (t, s):
        write_h264(real / f'{vid}.mp4', real_frames(), 23)
    for method in ('FaceShifter', 'Deepfakes'):
        for vid in (f'{t}_{s}', f'{s}_{t}'):
            write_h264(root / 'manipulated_sequences' / method / 'c23' / 'videos' / f'{vid}.mp4',
                       fake_frames(), 23)
    write_h264(root / 'manipulated_sequences' / 'Deepfakes' / 'masks' / 'videos'
               / f'{t}_{s}.mp4', mask_frames(), 23)
    out = tmp_path_factory.mktemp('ffpp_out')
    report = load_tool('ffpp').main([
        str(root), str(out), '--methods', 'FaceShifter', 'Deepfakes', '--compression', 'c23',
        '--splits', 'train', '--num-frames', '4'])['c23']
    return root, out, report, (t, s)


def test_faceshifter_without_masks_converts_detection_only(faceshifter_run, capsys):
    _, out, report, (t, s) = faceshifter_run
    failed = {(f['method'], f['video_id']): f['reason'] for f in report['failures']}
    assert not any(method == 'FaceShifter' for method, _ in failed)  # was: all 'mask video missing'
    records = read_jsonl(out / 'annotations' / 'ffpp_c23_train.jsonl')
    shifter = [r for r in records if r['method'] == 'FaceShifter']
    assert Counter(r['video_id'] for r in shifter) == {f'{t}_{s}': 4, f'{s}_{t}': 4}
    assert all(r['label'] == 1 and r['mask_path'] is None for r in shifter)
    assert all((out / r['img_path']).is_file() for r in shifter)
    for vid in (f'{t}_{s}', f'{s}_{t}'):
        assert not (out / 'c23' / 'FaceShifter' / vid / 'masks').exists()


def test_a_masks_folder_without_one_video_reports_that_mask_missing(faceshifter_run):
    root, out, report, (t, s) = faceshifter_run
    failed = {(f['method'], f['video_id']): f['reason'] for f in report['failures']}
    missing = root / 'manipulated_sequences' / 'Deepfakes' / 'masks' / 'videos' / f'{s}_{t}.mp4'
    assert failed == {('Deepfakes', f'{s}_{t}'): f'mask video missing: {missing}'}
    assert (report['done'], report['failed']) == (5, 1)  # 2 real, 2 FaceShifter, 1 Deepfakes
    records = read_jsonl(out / 'annotations' / 'ffpp_c23_train.jsonl')
    deepfakes = [r for r in records if r['method'] == 'Deepfakes']
    assert {r['video_id'] for r in deepfakes} == {f'{t}_{s}'}
    assert all((out / r['mask_path']).is_file() for r in deepfakes)


def test_faceshifter_dataset_marks_its_fakes_without_pixel_truth(faceshifter_run):
    _, out, _, (t, s) = faceshifter_run
    infos = FFPPDataset(methods=('FaceShifter',), split='train', data_root=str(out),
                        pipeline=[], test_mode=True).load_data_list()
    kinds = Counter((i['method'], i['gt_label'], i['has_mask'], i['seg_map_path'] is None)
                    for i in infos)
    assert kinds == {('original', 0, True, True): 8, ('FaceShifter', 1, False, True): 8}


def test_the_run_names_the_methods_without_masks(faceshifter_run, tmp_path, capsys):
    root, out, _, _ = faceshifter_run
    report = load_tool('ffpp').main([
        str(root), str(out), '--methods', 'FaceShifter', '--compression', 'c23',
        '--splits', 'train', '--num-frames', '4'])['c23']
    printed = capsys.readouterr().out
    assert 'no mask videos for FaceShifter (no manipulated_sequences/<method>/masks/' in printed
    assert (report['done'], report['skipped'], report['failed']) == (0, 4, 0)
