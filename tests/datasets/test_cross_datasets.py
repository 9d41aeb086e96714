"""The cross-dataset test sets read their converters' lists (names as the converters write
them), detection only, through the test pipeline; a missing list names its converter."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmseg.registry import DATASETS

ROOT = Path(__file__).resolve().parents[2]

PIPELINE = [dict(type='LoadForgeryImage'), dict(type='LoadForgeryAnnotations'),
            dict(type='PackForgeryInputs')]

# (dataset config, list the converter writes, fake method, converter named when missing)
CASES = [
    (dict(type='CelebDFDataset', version='v1'), 'celebdf_v1_test.jsonl', 'Celeb-synthesis',
     'celebdf.py'),
    (dict(type='CelebDFDataset', version='v2'), 'celebdf_v2_test.jsonl', 'Celeb-synthesis',
     'celebdf.py'),
    (dict(type='CelebDFDataset', version='v2', split='train'), 'celebdf_v2_train.jsonl',
     'Celeb-synthesis', 'celebdf.py'),
    (dict(type='DFDCDataset'), 'dfdc_test.jsonl', 'DFDC', 'dfdc.py'),
    (dict(type='DFDCDataset', split='train'), 'dfdc_train.jsonl', 'DFDC', 'dfdc.py'),
    (dict(type='DFDCPreviewDataset'), 'dfdcp_test.jsonl', 'method_A', 'dfdcp.py'),
    (dict(type='DeeperForensicsDataset'), 'deeperforensics_test.jsonl', 'DeeperForensics',
     'deeperforensics.py'),
    (dict(type='DeeperForensicsDataset', split='val'), 'deeperforensics_val.jsonl',
     'DeeperForensics', 'deeperforensics.py'),
    (dict(type='DeeperForensicsDataset', variant='end_to_end_level_3'),
     'deeperforensics_end_to_end_level_3_test.jsonl', 'DeeperForensics', 'deeperforensics.py'),
    (dict(type='UADFVDataset'), 'uadfv_test.jsonl', 'UADFV', 'uadfv.py'),
    (dict(type='WildDeepfakeDataset'), 'wilddeepfake_test.jsonl', 'WildDeepfake',
     'wilddeepfake.py'),
    (dict(type='FFPPDataset', methods=('FaceShifter', ), split='test'), 'ffpp_c23_test.jsonl',
     'FaceShifter', 'ffpp.py'),
]


def write_converter_output(root, list_name, method):
    """Two videos of two frames each, as a converter writes them: crops under
    ``<method>/<video>/images/`` and ``annotations/<list>``."""
    records = []
    for label, meth, video in ((0, 'original', 'real_01'), (1, method, 'fake_01')):
        for frame in (0, 5):
            img = f'{meth}/{video}/images/{frame:04d}.png'
            (root / img).parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(root / img), np.full((12, 16, 3), 60 + 100 * label, np.uint8))
            records.append(dict(img_path=img, mask_path=None, label=label, method=meth,
                                video_id=video, frame=frame))
    if method == 'FaceShifter':  # FF++'s list holds the other methods too
        records.append(dict(img_path='original/real_01/images/0000.png', mask_path=None,
                            label=1, method='Deepfakes', video_id='fake_02', frame=0))
    (root / 'annotations').mkdir(exist_ok=True)
    (root / 'annotations' / list_name).write_text(
        ''.join(json.dumps(r) + '\n' for r in records))


@pytest.mark.parametrize('cfg, list_name, method, converter', CASES,
                         ids=[c[1].split('.')[0] for c in CASES])
def test_reads_the_converter_list(tmp_path, cfg, list_name, method, converter):
    write_converter_output(tmp_path, list_name, method)
    dataset = DATASETS.build(dict(cfg, data_root=str(tmp_path), pipeline=PIPELINE,
                                  test_mode=True))
    assert len(dataset) == 4
    metas = [dataset[i]['data_samples'].metainfo for i in range(4)]
    assert [(m['method'], m['video_id'], m['gt_label']) for m in metas] == [
        ('original', 'real_01', 0), ('original', 'real_01', 0), (method, 'fake_01', 1),
        (method, 'fake_01', 1)]
    assert [m['video_id_source'] for m in metas] == ['video_id'] * 4
    if cfg['type'] == 'FFPPDataset':  # FF++ keeps its masks where the download has them
        assert [m['has_mask'] for m in metas] == [True, True, False, False]
    else:  # detection only: no sample is scored for localisation
        assert [m['has_mask'] for m in metas] == [False] * 4


@pytest.mark.parametrize('cfg, list_name, method, converter', CASES,
                         ids=[c[1].split('.')[0] for c in CASES])
def test_missing_list_names_the_converter(tmp_path, cfg, list_name, method, converter):
    with pytest.raises(FileNotFoundError) as err:
        DATASETS.build(dict(cfg, data_root=str(tmp_path)))
    message = str(err.value)
    assert '\n' not in message
    assert f'annotations/{list_name} does not exist' in message
    assert f'tools/dataset_converters/{converter}' in message


@pytest.mark.parametrize('cfg', [dict(type='CelebDFDataset', version='v3'),
                                 dict(type='CelebDFDataset', split='val'),
                                 dict(type='DFDCDataset', split='val'),
                                 dict(type='UADFVDataset', split='train'),
                                 dict(type='WildDeepfakeDataset', split='val')])
def test_unknown_version_or_split_is_refused(tmp_path, cfg):
    with pytest.raises(ValueError, match=r"must be (one of \[|'v1' or 'v2').*got"):
        DATASETS.build(dict(cfg, data_root=str(tmp_path)))


# the presets of cross_dataset_tests.py, in table order -> the list each reads, the method
# of its fakes
PRESET_LISTS = {
    'dfd': ('dfd_c40_test.jsonl', 'DeepFakeDetection'),
    'dftimit_hq': ('dftimit_hq_test.jsonl', 'DF-TIMIT'),
    'dftimit_lq': ('dftimit_lq_test.jsonl', 'DF-TIMIT'),
    'celebdf_v1': ('celebdf_v1_test.jsonl', 'Celeb-synthesis'),
    'celebdf_v2': ('celebdf_v2_test.jsonl', 'Celeb-synthesis'),
    'dfdc': ('dfdc_test.jsonl', 'DFDC'),
    'dfdcp': ('dfdcp_test.jsonl', 'method_A'),
    'deeperforensics': ('deeperforensics_test.jsonl', 'DeeperForensics'),
    'faceshifter': ('ffpp_c23_test.jsonl', 'FaceShifter'),
    'uadfv': ('uadfv_test.jsonl', 'UADFV'),
    'wilddeepfake': ('wilddeepfake_test.jsonl', 'WildDeepfake'),
}


def test_every_preset_reads_its_converter_list(tmp_path):
    presets = Config.fromfile(str(ROOT / 'configs/_base_/datasets/cross_dataset_tests.py'))
    assert presets.cross_datasets == list(PRESET_LISTS)
    for name, (list_name, method) in PRESET_LISTS.items():
        root = tmp_path / name
        write_converter_output(root, list_name, method)
        cfg = presets[f'{name}_test'].to_dict()
        cfg.pop('_delete_')
        folder = 'ffpp' if name == 'faceshifter' else name.split('_')[0]
        assert cfg.pop('data_root') == f'data/{folder}'  # the converter's default output
        dataset = DATASETS.build(dict(cfg, data_root=str(root)))
        infos = dataset.load_data_list()
        assert [(i['method'], i['gt_label']) for i in infos] == [
            ('original', 0)] * 2 + [(method, 1)] * 2, name
        assert not any(i['has_mask'] for i in infos), name  # detection only, every one
        assert dataset[0]['inputs'].shape[1:] == (1024, 1024)
