"""The forgery visualizer's pictures, pixel by pixel, on hand-made predictions."""
import os
import sys
import warnings

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample

from dadf_mm.apis.inference import ForgeryPrediction, render
from dadf_mm.visualization import (
    NEUTRAL_RGB,
    RIGHT_RGB,
    WRONG_RGB,
    ForgeryVisualizer,
    Verdict,
    draw_banner,
    layout_banner,
)
from dadf_mm.visualization.forgery_visualizer import PANEL_GAP

GREY = 100
# a forged pixel of the grey image: round(0.5 * 100 + 0.5 * (255, 0, 0))
TINTED = (178, 50, 50)


def sample(pred_mask, score, *, gt_label=None, gt_mask=None, has_mask=None):
    s = SegDataSample()
    s.pred_sem_seg = PixelData(data=torch.as_tensor(pred_mask, dtype=torch.long)[None])
    s.set_field(torch.tensor(score), 'pred_score')
    meta = {}
    if gt_label is not None:
        meta['gt_label'] = gt_label
    if has_mask is not None:
        meta['has_mask'] = has_mask
    s.set_metainfo(meta)
    if gt_mask is not None:
        s.gt_sem_seg = PixelData(data=torch.as_tensor(gt_mask, dtype=torch.long)[None])
    return s


@pytest.fixture
def visualizer():
    return ForgeryVisualizer(name=f'vis_test_{os.getpid()}_{id(object())}')


def square_mask(size=256):
    mask = np.zeros((size, size), np.int64)
    mask[64:128, 96:160] = 1
    return mask


def banner_of(picture, height, left, width=256):
    return picture[:height, left:left + width]


def expected_banner(parts, colour, height, width=256):
    strip = np.zeros((height, width, 3), np.uint8)
    return draw_banner(strip, layout_banner(width, parts), colour, height)


def test_verdict_text_and_colour():
    assert Verdict(0.91, 0.5, 0).parts() == ['FAKE 0.91', 'truth: real', 'WRONG']
    assert Verdict(0.91, 0.5, 0).colour() == WRONG_RGB
    assert Verdict(0.12, 0.5, 0).parts() == ['real 0.12', 'truth: real', 'RIGHT']
    assert Verdict(0.12, 0.5, 0).colour() == RIGHT_RGB
    assert Verdict(0.5, 0.5, 1).parts() == ['real 0.50', 'truth: fake', 'WRONG']
    assert Verdict(0.7, 0.5).parts() == ['FAKE 0.70'] and Verdict(0.7).colour() == NEUTRAL_RGB
    assert Verdict(0.7, 0.8, 1).correct is False


def test_wrong_fake_call_on_a_real_image(visualizer):
    """A real image called FAKE 0.91: truth panel untinted under a grey 'truth: real'
    banner; prediction panel tinted exactly where the mask is, under a red banner that
    reads 'FAKE 0.91 | truth: real | WRONG'."""
    image = np.full((256, 256, 3), GREY, np.uint8)
    mask = square_mask()
    picture = visualizer.draw_sample(image, sample(mask, 0.91, gt_label=0,
                                                   gt_mask=np.zeros((256, 256)),
                                                   has_mask=True))
    height = picture.shape[0] - 256
    assert picture.shape == (256 + height, 2 * 256 + PANEL_GAP, 3) and height > 10
    truth, pred = picture[height:, :256], picture[height:, 256 + PANEL_GAP:]
    assert (truth == GREY).all()
    assert (picture[:, 256:256 + PANEL_GAP] == 255).all()
    assert (pred[mask == 1] == TINTED).all() and (pred[mask == 0] == GREY).all()
    pred_banner = banner_of(picture, height, 256 + PANEL_GAP)
    assert (pred_banner[:, -3:] == WRONG_RGB).all()  # right margin: the banner's colour
    text = (pred_banner != WRONG_RGB).any(axis=2)
    assert text.sum() > 100  # written on
    np.testing.assert_array_equal(pred_banner, expected_banner(
        ['FAKE 0.91', 'truth: real', 'WRONG'], WRONG_RGB, height))
    np.testing.assert_array_equal(banner_of(picture, height, 0), expected_banner(
        ['truth: real'], NEUTRAL_RGB, height))
    # another text gives other pixels: the comparison above can fail
    assert (expected_banner(['FAKE 0.92', 'truth: real', 'WRONG'], WRONG_RGB, height)
            != pred_banner).any()


def test_right_call_on_a_fake_image_shows_the_true_mask(visualizer):
    image = np.full((256, 256, 3), GREY, np.uint8)
    truth_mask = np.zeros((256, 256), np.int64)
    truth_mask[:32] = 1
    picture = visualizer.draw_sample(image, sample(square_mask(), 0.8, gt_label=1,
                                                   gt_mask=truth_mask))
    height = picture.shape[0] - 256
    truth = picture[height:, :256]
    assert (truth[:32] == TINTED).all() and (truth[32:] == GREY).all()
    pred_banner = banner_of(picture, height, 256 + PANEL_GAP)
    assert (pred_banner[:, -3:] == RIGHT_RGB).all()
    np.testing.assert_array_equal(pred_banner, expected_banner(
        ['FAKE 0.80', 'truth: fake', 'RIGHT'], RIGHT_RGB, height))


def test_unknown_truth_gives_one_grey_panel(visualizer):
    image = np.full((256, 300, 3), GREY, np.uint8)
    mask = np.zeros((256, 300), np.int64)
    mask[10:20, 30:40] = 1
    picture = visualizer.draw_sample(image, sample(mask, 0.3))
    height = picture.shape[0] - 256
    assert picture.shape[1] == 300
    assert (picture[:height, -3:] == NEUTRAL_RGB).all()
    np.testing.assert_array_equal(picture[:height], expected_banner(
        ['real 0.30'], NEUTRAL_RGB, height, width=300))
    assert (picture[height:][mask == 1] == TINTED).all()


def test_a_fake_without_a_mask_is_not_drawn_as_pristine(visualizer):
    image = np.full((256, 256, 3), GREY, np.uint8)
    picture = visualizer.draw_sample(image, sample(
        np.zeros((256, 256)), 0.9, gt_label=1, gt_mask=np.full((256, 256), 255),
        has_mask=False))
    height = picture.shape[0] - 256
    assert (picture[height:, :256] == GREY).all()  # 255 (ignored) is not tinted
    np.testing.assert_array_equal(banner_of(picture, height, 0), expected_banner(
        ['truth: FAKE', 'mask unknown'], NEUTRAL_RGB, height))


def test_small_pictures_are_enlarged_by_whole_pixels(visualizer):
    image = np.full((128, 128, 3), GREY, np.uint8)
    image[5, 7] = (10, 20, 30)
    mask = np.zeros((128, 128), np.int64)
    mask[100, 50] = 1
    picture = visualizer.draw_sample(image, sample(mask, 0.9))
    height = picture.shape[0] - 256
    body = picture[height:]
    assert body.shape == (256, 256, 3)
    assert (body[10:12, 14:16] == (10, 20, 30)).all()
    assert (body[200:202, 100:102] == TINTED).all() and (body[202, 100] == GREY).all()


def test_registered_and_saves_through_its_backends(tmp_path):
    vis = VISUALIZERS.build(dict(type='ForgeryVisualizer', name=f'vis_save_{id(tmp_path)}',
                                 vis_backends=[dict(type='LocalVisBackend')],
                                 save_dir=str(tmp_path)))
    assert isinstance(vis, ForgeryVisualizer)
    image = np.full((256, 256, 3), GREY, np.uint8)
    vis.add_datasample('val_face.png', image, sample(square_mask(), 0.9, gt_label=0), step=7)
    assert os.listdir(tmp_path / 'vis_data' / 'vis_image') == ['val_face.png_7.png']


def test_tensorboard_is_left_out_when_it_is_missing(tmp_path, monkeypatch):
    backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
    with_tb = ForgeryVisualizer(name=f'vis_tb_{id(tmp_path)}', vis_backends=backends,
                                save_dir=str(tmp_path / 'a'))
    assert set(with_tb._vis_backends) == {'LocalVisBackend', 'TensorboardVisBackend'}
    monkeypatch.setitem(sys.modules, 'torch.utils.tensorboard', None)  # import fails
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        vis = ForgeryVisualizer(name=f'vis_notb_{id(tmp_path)}', vis_backends=backends,
                                save_dir=str(tmp_path / 'b'))
    assert any('tensorboard is not installed' in str(w.message) for w in caught)
    assert set(vis._vis_backends) == {'LocalVisBackend'}
    vis.add_scalars(dict(loss=0.5), step=1)
    vis.add_datasample('x.png', np.full((256, 256, 3), GREY, np.uint8),
                       sample(square_mask(), 0.9), step=1)
    assert os.listdir(tmp_path / 'b' / 'vis_data' / 'vis_image') == ['x.png_1.png']


def test_render_keeps_the_size_and_follows_the_decision():
    """``render`` (BGR, the tools' and web page's pictures): same size as the image, banner
    across the top, red tint where the map is above 0.5 only on a face judged fake."""
    image = np.full((200, 240, 3), GREY, np.uint8)
    prob = np.zeros((200, 240), np.float32)
    prob[120:160, 40:80] = 0.9
    pred = ForgeryPrediction(name='x', fake_probability=0.8, mask=(prob > 0.5).astype(np.uint8),
                             probability_map=prob)
    overlay, heat = render(image, pred, 0.5, truth=0)
    assert overlay.shape == image.shape and heat.shape == image.shape
    assert (overlay[120:160, 40:80] == TINTED[::-1]).all()  # BGR
    assert (overlay[170:, :] == GREY).all()
    layout = layout_banner(240, ['FAKE 0.80', 'truth: real', 'WRONG'])
    assert (overlay[:layout.height, -3:] == WRONG_RGB[::-1]).all()
    real_call, _ = render(image, pred, 0.85)  # judged real at 0.85: nothing tinted
    layout = layout_banner(240, ['real 0.80'])
    assert (real_call[layout.height:] == GREY).all()
    assert (real_call[:layout.height, -3:] == NEUTRAL_RGB[::-1]).all()
