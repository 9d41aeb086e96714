"""Forgery datasets on the FF++ converter's real output and on hand-written lists."""
import importlib.util
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope
from skimage import data

from dadf_mm.datasets import (
    DFDDataset,
    DFTIMITDataset,
    FFPPDataset,
    ForgeryFolderDataset,
    write_annotations,
)
from dadf_mm.datasets.errors import AnnotationError, ForgeryDataError
from dadf_mm.datasets.ffpp_splits import ffpp_split_pairs

CONVERTER = Path(__file__).resolve().parents[2] / 'tools' / 'dataset_converters' / 'ffpp.py'
PIPELINE = [dict(type='LoadForgeryImage'), dict(type='LoadForgeryAnnotations'),
            dict(type='PackForgeryInputs')]


@pytest.fixture(autouse=True)
def mmseg_scope():
    init_default_scope('mmseg')


def write_face_video(path, forged=False, mask=False, n=6):
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 25, (160, 160))
    astronaut = data.astronaut()[..., ::-1]
    for k in range(n):
        frame = cv2.resize(astronaut[15:215, 124 + k:324 + k], (160, 160))
        if mask:
            frame = np.zeros_like(frame)
        if forged or mask:
            frame[95:125, 45:75] = 255 if mask else (0, 255, 0)
        writer.write(np.ascontiguousarray(frame))
    writer.release()


@pytest.fixture(scope='module')
def ffpp_out(tmp_path_factory):
    """The converter's output for one real and two fake (Deepfakes, FaceSwap) videos."""
    root = tmp_path_factory.mktemp('ffpp')
    t, s = ffpp_split_pairs('train')[0]
    write_face_video(root / f'original_sequences/youtube/c23/videos/{t}.mp4')
    for method in ('Deepfakes', 'FaceSwap'):
        base = root / 'manipulated_sequences' / method
        write_face_video(base / f'c23/videos/{t}_{s}.mp4', forged=True)
        write_face_video(base / f'masks/videos/{t}_{s}.mp4', mask=True)
    out = tmp_path_factory.mktemp('ffpp_out')
    if str(CONVERTER.parent) not in sys.path:  # as running the program: its folder first
        sys.path.insert(0, str(CONVERTER.parent))
    spec = importlib.util.spec_from_file_location('ffpp_converter', CONVERTER)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    report = tool.main([str(root), str(out), '--methods', 'Deepfakes', 'FaceSwap',
                        '--splits', 'train', '--num-frames', '3'])['c23']
    assert report['done'] == 3
    return out, t, f'{t}_{s}'


def test_ffpp_dataset_reads_converter_output(ffpp_out):
    out, real_id, fake_id = ffpp_out
    dataset = FFPPDataset(data_root=str(out), compression='c23', split='train',
                          methods=['Deepfakes'], pipeline=PIPELINE)
    assert dataset.metainfo['classes'] == ('pristine', 'forged')
    assert len(dataset) == 6  # 3 real frames + 3 Deepfakes frames; FaceSwap left out
    seen = set()
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        meta = sample.metainfo
        seen.add((meta['method'], meta['video_id'], meta['gt_label']))
        assert meta['video_id_source'] == 'video_id'  # the converter writes video_id
        gt = sample.gt_sem_seg.data
        assert gt.shape == (1, ) + tuple(meta['ori_shape']) and gt.dtype.is_floating_point is False
        assert meta['has_mask'] is True
        if meta['gt_label'] == 0:
            assert meta['seg_map_path'] is None and int(gt.sum()) == 0
        else:
            expected = cv2.imread(meta['seg_map_path'], cv2.IMREAD_GRAYSCALE) > 127
            np.testing.assert_array_equal(gt[0].numpy(), expected.astype(np.int64))
            assert expected.sum() > 100
    assert seen == {('original', real_id, 0), ('Deepfakes', fake_id, 1)}
    both = FFPPDataset(data_root=str(out), split='train', methods=['Deepfakes', 'FaceSwap'])
    assert sorted({info['method'] for info in both.load_data_list()}) == [
        'Deepfakes', 'FaceSwap', 'original']


def test_converter_list_without_video_id_groups_the_same_videos(ffpp_out, tmp_path):
    """Grouping by folder (``video_id_from='folder'``) splits the converter's frames as its
    video_id does, although every video names its frames 0000.png, 0002.png, ...; without
    it, each frame is its own video."""
    out, _, _ = ffpp_out
    records = [json.loads(line) for line in
               (out / 'annotations' / 'ffpp_c23_train.jsonl').read_text().splitlines()]
    for r in records:
        del r['video_id']
    write_annotations(str(tmp_path / 'no_ids.jsonl'), records)
    with_ids = FFPPDataset(data_root=str(out), split='train', methods=['Deepfakes', 'FaceSwap'])
    without = ForgeryFolderDataset(ann_file=str(tmp_path / 'no_ids.jsonl'), data_root=str(out),
                                   video_id_from='folder')
    frames = ForgeryFolderDataset(ann_file=str(tmp_path / 'no_ids.jsonl'), data_root=str(out))

    def videos(dataset):
        groups = {}
        for info in dataset.load_data_list():
            groups.setdefault((info['method'], info['video_id']), []).append(info['img_path'])
        return sorted(groups.values())

    assert videos(with_ids) == videos(without) and len(videos(without)) == 3
    assert len(videos(frames)) == len(records) == 9


def test_missing_or_empty_split_names_file_and_fix(ffpp_out):
    out, _, _ = ffpp_out
    with pytest.raises(FileNotFoundError,
                       match=r'ffpp_c40_train\.jsonl.*dataset_converters/ffpp\.py'):
        FFPPDataset(data_root=str(out), compression='c40', split='train')
    with pytest.raises(ForgeryDataError, match=r'no samples in .*ffpp_c23_val\.jsonl.*ffpp\.py'):
        write_annotations(str(out / 'annotations' / 'ffpp_c23_val.jsonl'), [])
        FFPPDataset(data_root=str(out), compression='c23', split='val')


def make_list(tmp_path, records, name='list.jsonl'):
    path = tmp_path / name
    write_annotations(str(path), records)
    return path


def write_png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def test_folder_dataset_csv_and_has_mask(tmp_path):
    write_png(tmp_path / 'a.png', np.full((8, 10, 3), 100, np.uint8))
    write_png(tmp_path / 'b.png', np.full((8, 10, 3), 150, np.uint8))
    mask = np.zeros((8, 10), np.uint8)
    mask[2:5, 3:7] = 1  # a 0/1 label map, not 0/255
    write_png(tmp_path / 'b_mask.png', mask)
    write_png(tmp_path / 'c.png', np.full((8, 10, 3), 200, np.uint8))
    (tmp_path / 'list.csv').write_text('img_path,mask_path,label,method,video_id\n'
                                       'a.png,,0,,\n'
                                       'b.png,b_mask.png,1,GAN,clip7\n'
                                       'c.png,,1,GAN,\n')
    dataset = ForgeryFolderDataset(ann_file='list.csv', data_root=str(tmp_path),
                                   pipeline=PIPELINE)
    metas = [dataset[i]['data_samples'].metainfo for i in range(3)]
    # without video_id an image is its own video
    assert [(m['method'], m['video_id'], m['video_id_source'], m['gt_label'], m['has_mask'])
            for m in metas] == [('original', 'a.png', 'image', 0, True),
                                ('GAN', 'clip7', 'video_id', 1, True),
                                ('GAN', 'c.png', 'image', 1, False)]
    gt = dataset[1]['data_samples'].gt_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(gt, mask)
    # a real image without a mask is pristine everywhere; a fake without one is unknown
    # (mmseg's ignore index: left out of L_seg, not taught as pristine)
    assert (dataset[0]['data_samples'].gt_sem_seg.data == 0).all()
    assert (dataset[2]['data_samples'].gt_sem_seg.data == 255).all()
    detection_only = DFDDataset(ann_file=str(tmp_path / 'list.csv'), data_root=str(tmp_path))
    assert [info['has_mask'] for info in detection_only.load_data_list()] == [False] * 3
    make_list(tmp_path, [dict(img_path='a.png', label=0)], 'dftimit_lq_test.jsonl')
    dftimit = DFTIMITDataset(quality='lq', data_root=str(tmp_path),
                             ann_file='dftimit_lq_test.jsonl')
    assert dftimit.load_data_list()[0]['has_mask'] is False


def test_test_pipeline_keeps_ground_truth_at_original_size(tmp_path):
    write_png(tmp_path / 'img.png', np.zeros((8, 10, 3), np.uint8))
    mask = np.zeros((8, 10), np.uint8)
    mask[2:6, 4:9] = 255
    write_png(tmp_path / 'mask.png', mask)
    records = [dict(img_path='img.png', mask_path='mask.png', label=1)]
    pipeline = [dict(type='LoadForgeryImage'), dict(type='Resize', scale=(32, 32),
                                                     keep_ratio=False),
                dict(type='LoadForgeryAnnotations'), dict(type='PackForgeryInputs')]
    dataset = ForgeryFolderDataset(ann_file=str(make_list(tmp_path, records)),
                                   data_root=str(tmp_path), pipeline=pipeline, test_mode=True)
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, 32, 32)
    np.testing.assert_array_equal(sample['data_samples'].gt_sem_seg.data[0].numpy(), mask // 255)


def test_bad_annotations_name_the_line(tmp_path):
    (tmp_path / 'bad.csv').write_text('img_path,label\na.png,0\nb.png,2\n')
    with pytest.raises(AnnotationError, match=r'bad\.csv, line 3: label must be exactly 0'):
        ForgeryFolderDataset(ann_file=str(tmp_path / 'bad.csv'))
    (tmp_path / 'bad.jsonl').write_text(json.dumps(dict(label=1)) + '\n')
    with pytest.raises(AnnotationError, match=r'bad\.jsonl, line 1: missing .img_path'):
        ForgeryFolderDataset(ann_file=str(tmp_path / 'bad.jsonl'))


def test_unreadable_image_names_the_file(tmp_path):
    (tmp_path / 'broken.png').write_bytes(b'not a png at all')
    dataset = ForgeryFolderDataset(
        ann_file=str(make_list(tmp_path, [dict(img_path='broken.png', label=0)])),
        data_root=str(tmp_path), pipeline=PIPELINE)
    with pytest.raises(ForgeryDataError, match=r'image .*broken\.png cannot be decoded'):
        dataset[0]


def test_mask_of_another_size_names_both_files(tmp_path):
    write_png(tmp_path / 'img.png', np.zeros((8, 10, 3), np.uint8))
    write_png(tmp_path / 'small_mask.png', np.zeros((4, 5), np.uint8))
    records = [dict(img_path='img.png', mask_path='small_mask.png', label=1)]
    dataset = ForgeryFolderDataset(ann_file=str(make_list(tmp_path, records)),
                                   data_root=str(tmp_path), pipeline=PIPELINE)
    with pytest.raises(ForgeryDataError, match=r'small_mask\.png is 5x4.*img\.png is 10x8'):
        dataset[0]


def test_real_label_with_forged_mask_is_an_error(tmp_path):
    write_png(tmp_path / 'img.png', np.zeros((8, 10, 3), np.uint8))
    mask = np.zeros((8, 10), np.uint8)
    mask[1:3, 1:3] = 255
    write_png(tmp_path / 'mask.png', mask)
    records = [dict(img_path='img.png', mask_path='mask.png', label=0)]
    dataset = ForgeryFolderDataset(ann_file=str(make_list(tmp_path, records)),
                                   data_root=str(tmp_path), pipeline=PIPELINE)
    with pytest.raises(ForgeryDataError,
                       match=r'img\.png is labelled real.*mask\.png marks 4 forged'):
        dataset[0]
