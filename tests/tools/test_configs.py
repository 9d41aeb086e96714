"""Every config under configs/ builds its model and its data pipelines (no config rots).

Models are built on the meta device (ViT-H needs no memory then); the SAM checkpoint and
the data roots are replaced by small stand-ins written here.
"""
import glob
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import DATASETS, MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
                 if '_base_' not in p)
ANNOTATIONS = [f'ffpp_{c}_{s}.jsonl' for c in ('c23', 'c40') for s in ('train', 'val', 'test')] + [
    f'fmld_{s}.jsonl' for s in ('train', 'val', 'test')] + [
    'dfd_c40_test.jsonl', 'dftimit_hq_test.jsonl', 'dftimit_lq_test.jsonl'] + [
    f'{name}_test.jsonl' for name in ('celebdf_v1', 'celebdf_v2', 'dfdc', 'dfdcp',
                                      'deeperforensics', 'uadfv', 'wilddeepfake')]
METHODS = ('Deepfakes', 'Face2Face', 'FaceSwap', 'NeuralTextures', 'FaceShifter')


@pytest.fixture(scope='module')
def stand_in_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('data')
    os.makedirs(root / 'annotations')
    cv2.imwrite(str(root / 'face.png'), np.full((40, 40, 3), 127, np.uint8))
    mask = np.zeros((40, 40), np.uint8)
    mask[10:30, 10:30] = 255
    cv2.imwrite(str(root / 'mask.png'), mask)
    records = [dict(img_path='face.png', mask_path=None, label=0, method='original',
                    video_id='000')]
    records += [dict(img_path='face.png', mask_path='mask.png', label=1, method=m,
                     video_id='000_001') for m in METHODS]
    for name in ANNOTATIONS:
        with open(root / 'annotations' / name, 'w') as f:
            f.writelines(json.dumps(r) + '\n' for r in records)
    # DeepfakeBench's Celeb-DF-v2.json over its frame folders (rgb/)
    os.makedirs(root / 'rgb' / 'frames' / 'v0')
    cv2.imwrite(str(root / 'rgb' / 'frames' / 'v0' / '0.png'), np.full((40, 40, 3), 127, np.uint8))
    os.makedirs(root / 'dataset_json')
    video = {'v0': {'label': 'CelebDFv2_real', 'frames': ['frames/v0/0.png']}}
    (root / 'dataset_json' / 'Celeb-DF-v2.json').write_text(
        json.dumps({'Celeb-DF-v2': {'CelebDFv2_real': {'test': video}}}))
    return str(root)


def test_there_are_configs():
    names = {osp.relpath(p, osp.join(ROOT, 'configs')) for p in CONFIGS}
    for expected in ('dadf/dadf_vit-h_ffpp-hq.py', 'dadf/dadf_vit-h_ffpp-lq.py',
                     'dadf/dadf_vit-h_fmld.py', 'dadf/dadf_sam-tiny_synthetic-demo.py',
                     'baselines/sam_vit-h_ffpp-hq.py', 'baselines/sam-lora_vit-h_ffpp-hq.py'):
        assert expected in names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_config_builds(path, stand_in_root):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports['imports'] == ['dadf_mm']
    # SAM's encoders built without memory; a stock mmseg backbone (configs/examples) reads
    # its drop-path rates with .item(), which a meta tensor cannot give: built on the CPU
    with torch.device('meta' if cfg.model.backbone.type == 'SAMViT' else 'cpu'):
        model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'DADF'
    if cfg.model.sam_checkpoint is not None:
        assert osp.basename(cfg.model.sam_checkpoint).startswith(
            f"sam_{cfg.model.backbone.arch}_")
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds_cfg = cfg[split].dataset.copy()
        if ds_cfg['type'] == 'SyntheticForgeryDataset':
            ds_cfg.update(num_samples=4, cache_dir=stand_in_root)
        else:
            ds_cfg['data_root'] = stand_in_root
        dataset = DATASETS.build(ds_cfg)
        sample = dataset[0]
        inputs = sample['inputs']
        size = cfg.model.data_preprocessor['size']
        assert tuple(inputs.shape[1:]) == tuple(size) or split != 'train_dataloader'
        assert 'gt_label' in sample['data_samples'].metainfo
