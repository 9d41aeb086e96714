"""DeepfakeBench's rearranged JSON over its frame folders loads to the records a converter's
list gives; a wrong label name, frame folder or split is one line naming the JSON key."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS

from dadf_mm.datasets import DeepfakeBenchDataset, ForgeryFolderDataset
from dadf_mm.datasets.errors import AnnotationError, MissingDataFileError

PIPELINE = [dict(type='LoadForgeryImage'), dict(type='LoadForgeryAnnotations'),
            dict(type='PackForgeryInputs')]


def write_frames(root, folder, names, mask=False):
    for name in names:
        path = root / folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image = np.zeros((12, 16), np.uint8) if mask else np.full((12, 16, 3), 90, np.uint8)
        if mask:
            image[2:8, 3:9] = 255
        assert cv2.imwrite(str(path), image)


@pytest.fixture
def celebdf(tmp_path):
    """Celeb-DF-v2.json as rearrange.py writes it (frames listed unsorted, paths relative to
    the rgb folder, one with Windows separators), and the frames it lists."""
    rgb = tmp_path / 'rgb'
    real = 'Celeb-DF-v2/Celeb-real/frames/id0_0001'
    fake = 'Celeb-DF-v2/Celeb-synthesis/frames/id0_id1_0001'
    write_frames(rgb, real, ['0.png', '10.png', '2.png'])
    write_frames(rgb, fake, ['3.png', '1.png'])
    data = {'Celeb-DF-v2': {
        'CelebDFv2_real': {'train': {}, 'val': {}, 'test': {'id0_0001': {
            'label': 'CelebDFv2_real',
            'frames': [f'{real}/10.png', f'{real}/0.png', f'{real}/2.png']}}},
        'CelebDFv2_fake': {'train': {}, 'val': {}, 'test': {'id0_id1_0001': {
            'label': 'CelebDFv2_fake',
            'frames': [f'{fake}/3.png', fake.replace('/', '\\') + '\\1.png']}}},
    }}
    json_file = tmp_path / 'dataset_json' / 'Celeb-DF-v2.json'
    json_file.parent.mkdir()
    json_file.write_text(json.dumps(data))
    return tmp_path, json_file, data


def converter_list(path, records):
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))
    return path


def test_celebdf_json_loads_as_the_converter_list(celebdf):
    root, json_file, _ = celebdf
    real = 'Celeb-DF-v2/Celeb-real/frames/id0_0001'
    fake = 'Celeb-DF-v2/Celeb-synthesis/frames/id0_id1_0001'
    # the same frames, written by hand as a converter's list (frames in number order)
    jsonl = converter_list(root / 'celebdf_v2_test.jsonl', [
        dict(img_path=f'{real}/0.png', label=0, method='original', video_id='id0_0001'),
        dict(img_path=f'{real}/2.png', label=0, method='original', video_id='id0_0001'),
        dict(img_path=f'{real}/10.png', label=0, method='original', video_id='id0_0001'),
        dict(img_path=f'{fake}/1.png', label=1, method='Celeb-synthesis',
             video_id='id0_id1_0001'),
        dict(img_path=f'{fake}/3.png', label=1, method='Celeb-synthesis',
             video_id='id0_id1_0001')])
    bench = DeepfakeBenchDataset(json_file='../dataset_json/Celeb-DF-v2.json',
                                 data_root=str(root / 'rgb'), pipeline=PIPELINE)
    listed = ForgeryFolderDataset(ann_file=str(jsonl), data_root=str(root / 'rgb'),
                                  with_masks=False)
    assert bench.load_data_list() == listed.load_data_list()
    assert len(bench) == 5 and bench.with_masks is False  # Celeb-DF has no masks
    meta = bench[4]['data_samples'].metainfo
    assert (meta['gt_label'], meta['method'], meta['video_id'], meta['has_mask']) == (
        1, 'Celeb-synthesis', 'id0_id1_0001', False)
    named = DATASETS.build(dict(type='DeepfakeBenchDataset', json_file=str(json_file),
                                dataset_name='Celeb-DF-v2', split='test',
                                data_root=str(root / 'rgb')))
    assert named.load_data_list() == bench.load_data_list()


def test_ff_json_with_compression_and_masks(tmp_path):
    """FF-DF.json: a compression level under each split; fakes list their masks."""
    base = 'FaceForensics++/manipulated_sequences/Deepfakes'
    real = 'FaceForensics++/original_sequences/youtube/c23/frames/953'
    write_frames(tmp_path, real, ['0.png'])
    for comp in ('c23', 'c40'):
        write_frames(tmp_path, f'{base}/{comp}/frames/953_974', ['0.png', '1.png'])
    write_frames(tmp_path, f'{base}/c23/masks/953_974', ['0.png'], mask=True)

    def fake(comp):
        return {'953_974': {'label': 'FF-DF', 'frames': [
            f'{base}/{comp}/frames/953_974/0.png', f'{base}/{comp}/frames/953_974/1.png'],
            'masks': [f'{base}/c23/masks/953_974/0.png']}}
    data = {'FF-DF': {
        'FF-real': {'test': {'c23': {'953': {'label': 'FF-real', 'frames': [f'{real}/0.png']}},
                             'c40': {}}},
        'FF-DF': {'test': {'c23': fake('c23'), 'c40': fake('c40')}}}}
    (tmp_path / 'FF-DF.json').write_text(json.dumps(data))
    jsonl = converter_list(tmp_path / 'ffpp_c23_test.jsonl', [
        dict(img_path=f'{real}/0.png', label=0, method='original', video_id='953'),
        dict(img_path=f'{base}/c23/frames/953_974/0.png',
             mask_path=f'{base}/c23/masks/953_974/0.png', label=1, method='Deepfakes',
             video_id='953_974'),
        dict(img_path=f'{base}/c23/frames/953_974/1.png', label=1, method='Deepfakes',
             video_id='953_974')])
    bench = DeepfakeBenchDataset(json_file='FF-DF.json', data_root=str(tmp_path),
                                 pipeline=PIPELINE)
    listed = ForgeryFolderDataset(ann_file=str(jsonl), data_root=str(tmp_path))
    assert bench.load_data_list() == listed.load_data_list()
    assert [d['has_mask'] for d in bench.load_data_list()] == [True, True, False]
    gt = bench[1]['data_samples'].gt_sem_seg.data[0].numpy()
    assert gt.sum() == 36 and gt[2:8, 3:9].all()  # the mask file's forged square
    c40 = DeepfakeBenchDataset(json_file='FF-DF.json', compression='c40',
                               data_root=str(tmp_path))
    assert [d['img_path'].split('/')[-4:-2] for d in c40.load_data_list()] == [
        ['c40', 'frames']] * 2  # c40 lists no real video here


def error_line(celebdf_root, **kwargs):
    with pytest.raises((AnnotationError, MissingDataFileError)) as err:
        DeepfakeBenchDataset(json_file='dataset_json/Celeb-DF-v2.json',
                             data_root=str(celebdf_root), data_prefix=dict(img_path='rgb'),
                             **kwargs)
    message = str(err.value)
    assert '\n' not in message and 'Celeb-DF-v2.json' in message
    return message


def test_unknown_label_name(celebdf):
    root, json_file, data = celebdf
    entry = data['Celeb-DF-v2']['CelebDFv2_fake']['test']['id0_id1_0001']
    entry['label'] = 'CelebDFv3_fake'
    json_file.write_text(json.dumps(data))
    message = error_line(root)
    assert ("['Celeb-DF-v2']['CelebDFv2_fake']['test']['id0_id1_0001']: label "
            "'CelebDFv3_fake' is not a DeepfakeBench label name") in message
    assert 'extra_labels=dict(CelebDFv3_fake=0 or 1)' in message
    given = DeepfakeBenchDataset(json_file=str(json_file), data_root=str(root / 'rgb'),
                                 extra_labels=dict(CelebDFv3_fake=1))
    assert given.load_data_list()[-1]['method'] == 'CelebDFv3_fake'


def test_missing_frame_folder(celebdf):
    root, _, _ = celebdf
    # the frame paths are relative to rgb/, not to the data root itself
    with pytest.raises(MissingDataFileError) as err:
        DeepfakeBenchDataset(json_file='dataset_json/Celeb-DF-v2.json', data_root=str(root))
    message = str(err.value)
    assert "['Celeb-DF-v2']['CelebDFv2_real']['test']['id0_0001']: frame folder " in message
    assert 'Celeb-real/frames/id0_0001 does not exist; set data_root' in message
    (root / 'rgb/Celeb-DF-v2/Celeb-synthesis/frames/id0_id1_0001/3.png').unlink()
    assert 'id0_id1_0001/3.png does not exist' in error_line(root)


def test_wrong_split_dataset_or_compression(celebdf):
    root, _, _ = celebdf
    assert ("['Celeb-DF-v2']['CelebDFv2_real']: has no split 'tset' (it has: test, train, "
            "val); give split= one of them") in error_line(root, split='tset')
    assert ": has no dataset_name 'Celeb-DF-v1' (it has: Celeb-DF-v2)" in error_line(
        root, dataset_name='Celeb-DF-v1')
    with pytest.raises(ValueError, match="compression must be one of.*got 'c30'"):
        DeepfakeBenchDataset(json_file='x.json', compression='c30')


def test_missing_json_and_broken_entries(tmp_path):
    with pytest.raises(MissingDataFileError, match=r'Celeb-DF-v1\.json: the DeepfakeBench '
                       "JSON does not exist; make it with DeepfakeBench's"):
        DeepfakeBenchDataset(json_file=str(tmp_path / 'Celeb-DF-v1.json'))
    # DeepfakeBench's rearrange.py writes DFDC's val split as one video entry
    (tmp_path / 'DFDC.json').write_text(json.dumps({'DFDC': {'DFDC_Real': {
        'test': {}, 'val': {'label': 'DFDC_Real', 'frames': ['a/0.png']}}}}))
    with pytest.raises(AnnotationError, match=r"\['DFDC'\]\['DFDC_Real'\]\['val'\]\['label'\]: "
                       'is not a video entry'):
        DeepfakeBenchDataset(json_file=str(tmp_path / 'DFDC.json'), split='val')


# the presets of deepfakebench_tests.py -> the JSON rearrange.py writes for them: its top
# key, whether a compression level sits under each split, and its label names with the
# (label, method) each must give
PRESET_JSONS = {
    'dfd': ('DeepFakeDetection', True, [('DFD_real', 0, 'original'),
                                        ('DFD_fake', 1, 'DeepFakeDetection')]),
    'celebdf_v1': ('Celeb-DF-v1', False, [('CelebDFv1_real', 0, 'original'),
                                          ('CelebDFv1_fake', 1, 'Celeb-synthesis')]),
    'celebdf_v2': ('Celeb-DF-v2', False, [('CelebDFv2_real', 0, 'original'),
                                          ('CelebDFv2_fake', 1, 'Celeb-synthesis')]),
    'dfdc': ('DFDC', False, [('DFDC_Real', 0, 'original'), ('DFDC_Fake', 1, 'DFDC')]),
    'dfdcp': ('DFDCP', False, [('DFDCP_Real', 0, 'original'), ('DFDCP_FakeA', 1, 'method_A'),
                               ('DFDCP_FakeB', 1, 'method_B')]),
    'deeperforensics': ('DeeperForensics-1.0', False, [('DF_real', 0, 'original'),
                                                       ('DF_fake', 1, 'DeeperForensics')]),
    'faceshifter': ('FaceShifter', True, [('FF-FH', 1, 'FaceShifter'),
                                          ('FF-real', 0, 'original')]),
    'uadfv': ('UADFV', False, [('UADFV_Real', 0, 'original'), ('UADFV_Fake', 1, 'UADFV')]),
}


def test_every_deepfakebench_preset_reads_its_json(tmp_path):
    root = Path(__file__).resolve().parents[2]
    presets = Config.fromfile(str(root / 'configs/_base_/datasets/deepfakebench_tests.py'))
    assert presets.cross_datasets == list(PRESET_JSONS)
    for name, (key, compressed, labels) in PRESET_JSONS.items():
        by_label = {}
        for k, (label_name, _, _) in enumerate(labels):
            video = f'{name}_{k}'
            write_frames(tmp_path / 'rgb', f'{key}/frames/{video}', ['0.png'])
            videos = {video: {'label': label_name, 'frames': [f'{key}/frames/{video}/0.png']}}
            by_label[label_name] = {'train': {}, 'test': {'c23': videos} if compressed
                                    else videos}
        cfg = presets[f'{name}_test'].to_dict()
        json_file = tmp_path / cfg['json_file']
        json_file.parent.mkdir(exist_ok=True)
        json_file.write_text(json.dumps({key: by_label}))
        cfg.pop('_delete_')
        dataset = DATASETS.build(dict(cfg, data_root=str(tmp_path)))
        got = [(info['gt_label'], info['method']) for info in dataset.load_data_list()]
        assert got == [(label, method) for _, label, method in labels], name
        assert dataset[0]['inputs'].shape[1:] == (1024, 1024)
