"""Inference takes images of any size and invents no ground truth: mmseg's
``inference_model`` and the forgery inferencer on the demo config, and the test pipelines
of every config."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmcv.transforms import Compose
from mmengine.config import Config
from mmseg.apis import inference_model, init_model

from dadf_mm.apis.inference import ForgeryInferencer, default_device
from dadf_mm.datasets.transforms import LoadForgeryAnnotations
from tests.helpers.inference_cases import DEMO, ROOT, SIZES, face_like

PAPER_CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                                            recursive=True)
                       if '_base_' not in p and 'synthetic' not in p)


@pytest.fixture
def demo_model(demo_checkpoint):
    """A fresh model per test: mmseg's ``inference_model`` switches ``model.cfg``'s loader
    to arrays for good once given an array."""
    return init_model(DEMO, demo_checkpoint, device='cpu')


@pytest.fixture(scope='module')
def inferencer(demo_checkpoint):
    return ForgeryInferencer(DEMO, demo_checkpoint, device='cpu', threshold=0.5)


def logit(p: torch.Tensor) -> torch.Tensor:
    p = p.double().clamp(1e-12, 1 - 1e-12)
    return torch.log(p / (1 - p))


@pytest.mark.parametrize('size', SIZES, ids=lambda s: f'{s[1]}x{s[0]}')
def test_inference_model_resizes_in_and_out(demo_model, size):
    """An HxW image gives HxW outputs, and they are the model's 128 px prediction of the
    image resized (bilinear, as mmcv's Resize) to 128 px, resized back: the score is the
    same, the probability map its bilinear resize (computed here on the logits, as mmseg's
    postprocessing does)."""
    height, width = size
    image = face_like(height, width)
    result = inference_model(demo_model, image)
    small = inference_model(demo_model, cv2.resize(image, (128, 128),
                                                   interpolation=cv2.INTER_LINEAR))
    assert 'gt_sem_seg' not in result and 'gt_label' not in result.metainfo
    assert tuple(result.pred_sem_seg.shape) == (height, width)
    assert tuple(result.seg_logits.shape) == (height, width)
    assert result.metainfo['ori_shape'] == (height, width)
    torch.testing.assert_close(result.pred_score, small.pred_score, atol=1e-5, rtol=0)
    expected = torch.sigmoid(F.interpolate(logit(small.seg_logits.data)[None], size=size,
                                           mode='bilinear', align_corners=False))[0]
    torch.testing.assert_close(result.seg_logits.data.double(), expected, atol=1e-4, rtol=0)
    gate = float(result.pred_score) > 0.5  # the demo's test_cfg: masks of fakes only
    torch.testing.assert_close(result.pred_sem_seg.data.bool(),
                               (result.seg_logits.data > 0.5) & gate)


def test_inference_model_from_a_file_has_no_ground_truth(demo_model, tmp_path):
    path = str(tmp_path / 'face.png')
    cv2.imwrite(path, face_like(200, 300))
    result = inference_model(demo_model, path)
    assert 'gt_sem_seg' not in result and tuple(result.pred_sem_seg.shape) == (200, 300)
    assert result.metainfo['img_path'] == path


@pytest.mark.parametrize('size', SIZES, ids=lambda s: f'{s[1]}x{s[0]}')
def test_inferencer_on_any_size_agrees_with_inference_model(inferencer, demo_model,
                                                             tmp_path, size):
    """The inferencer (a file, named by its path) predicts what mmseg's
    ``inference_model`` predicts for that file, at the file's size."""
    path = str(tmp_path / 'face.png')
    cv2.imwrite(path, face_like(*size, seed=3))
    reference = inference_model(demo_model, path)
    out = inferencer(path)['predictions'][0]
    assert out['name'] == path
    assert out['mask'].shape == size and out['probability_map'].shape == size
    assert out['fake_probability'] == pytest.approx(float(reference.pred_score), abs=1e-6)
    assert out['is_fake'] == (out['fake_probability'] > 0.5)
    assert out['decision'] == ('fake' if out['is_fake'] else 'real')
    np.testing.assert_allclose(out['probability_map'], reference.seg_logits.data[0].numpy(),
                               atol=1e-6)
    # a face judged real has an empty mask; a fake one the pixels above 0.5
    np.testing.assert_array_equal(out['mask'],
                                  (out['probability_map'] > 0.5) & out['is_fake'])
    samples = inferencer(path, return_datasamples=True)['predictions']
    assert 'gt_sem_seg' not in samples[0]


def test_predict_image_is_independent_of_the_batch(inferencer):
    """An image's prediction depends on its name (the noisy view's seed), not on which
    images share its batch."""
    a, b = face_like(128, 128, seed=1), face_like(300, 200, seed=2)
    alone = inferencer.predict_image(a, 'a.png')
    together = inferencer.predict([b, a], ['b.png', 'a.png'])[1]
    assert together.fake_probability == pytest.approx(alone.fake_probability, abs=1e-6)
    np.testing.assert_allclose(together.probability_map, alone.probability_map, atol=1e-6)
    assert alone.mask.shape == (128, 128) and alone.threshold == 0.5


def test_inferencer_threshold_gates_the_mask(demo_checkpoint):
    """The mask follows the inferencer's threshold: at 0 every face is fake and its mask is
    the map above 0.5; at 1 every face is real and its mask empty."""
    image = face_like(96, 96)
    masks = {}
    for threshold in (0.0, 1.0):
        inferencer = ForgeryInferencer(DEMO, demo_checkpoint, device='cpu',
                                       threshold=threshold)
        pred = inferencer.predict_image(image, 'x.png')
        assert pred.is_fake == (threshold == 0.0)
        masks[threshold] = pred.mask
    assert masks[0.0].any(), 'the check needs pixels above 0.5'
    np.testing.assert_array_equal(masks[0.0], pred.probability_map > 0.5)
    assert not masks[1.0].any()


def test_default_device_picks_the_gpu_when_there_is_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert default_device() == 'cuda'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert default_device() == 'cpu'


def _pipelines(cfg: Config):
    yield 'test_pipeline', cfg.test_pipeline
    yield 'test_dataloader', cfg.test_dataloader.dataset.pipeline


@pytest.mark.parametrize('path', PAPER_CONFIGS, ids=lambda p: osp.relpath(p, ROOT))
def test_every_config_test_pipeline_takes_any_size(path, tmp_path):
    """The test pipelines (the top-level one mmseg's ``inference_model`` reads and the test
    dataloader's) pack any image at the model's input size, keep its original size, and
    add no ground truth to an image without annotations."""
    cfg = Config.fromfile(path)
    size = tuple(cfg.model.data_preprocessor['size'])
    assert cfg.model.backbone.get('img_size', 1024) == size[0]
    for height, width in [(64, 64), (512, 512), (333, 777)]:
        image = str(tmp_path / f'{width}x{height}.png')
        cv2.imwrite(image, face_like(height, width))
        for where, pipeline in _pipelines(cfg):
            packed = Compose(pipeline)(dict(img_path=image))
            assert tuple(packed['inputs'].shape[1:]) == size, (where, height, width)
            sample = packed['data_samples']
            assert sample.metainfo['ori_shape'] == (height, width)
            assert 'gt_sem_seg' not in sample, where


def test_annotations_are_added_only_to_annotated_samples():
    load = LoadForgeryAnnotations()
    img = np.zeros((6, 7, 3), np.uint8)
    unannotated = load(dict(img=img, img_path='x.png', ori_shape=(6, 7)))
    assert 'gt_seg_map' not in unannotated and 'seg_fields' not in unannotated
    real = load(dict(img=img, img_path='r.png', ori_shape=(6, 7), seg_map_path=None,
                     gt_label=0))
    assert real['gt_seg_map'].shape == (6, 7) and not real['gt_seg_map'].any()
    fake = load(dict(img=img, img_path='f.png', ori_shape=(6, 7), seg_map_path=None,
                     gt_label=1))
    assert (fake['gt_seg_map'] == 255).all()


def test_the_inferencer_finds_a_model_by_its_metafile_name(demo_checkpoint):
    """``'dadf_sam-tiny_synthetic-demo'`` (configs/dadf/metafile.yaml) is the demo config;
    an unknown name is refused with the nearest names."""
    by_name = ForgeryInferencer('dadf_sam-tiny_synthetic-demo', demo_checkpoint, device='cpu')
    by_path = ForgeryInferencer(DEMO, demo_checkpoint, device='cpu')
    image = face_like(96, 96)
    assert by_name.predict_image(image, 'a.png').fake_probability == \
        by_path.predict_image(image, 'a.png').fake_probability
    with pytest.raises(ValueError, match='dadf_sam-tiny_synthetic-demo'):
        ForgeryInferencer('dadf_sam-tiny_synthetic-dem', device='cpu')
