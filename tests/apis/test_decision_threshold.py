"""The threshold calibrated on the validation set and stored in a checkpoint's meta decides
in the inferencer, tools/infer.py and the web page's analysis, unless one is given; a
checkpoint without one decides at 0.5 and says so."""
import json

import cv2
import pytest
import torch

from dadf_mm.apis.inference import ForgeryInferencer
from tests.helpers.inference_cases import DEMO, face_like
from tests.helpers.tool_runs import tool_exit

from web_page import analyse_file


@pytest.fixture(scope='module')
def face(tmp_path_factory, demo_checkpoint):
    """An image, its score at the demo checkpoint, and a copy of that checkpoint whose meta
    holds a threshold on the other side of the score from 0.5 (so the decision flips)."""
    folder = tmp_path_factory.mktemp('calibrated')
    path = folder / 'face.png'
    cv2.imwrite(str(path), face_like(64, 64, seed=4))
    plain = ForgeryInferencer(DEMO, demo_checkpoint, device='cpu')
    score = plain.predict_image(cv2.imread(str(path)), 'face.png').fake_probability
    stored = (score + 1) / 2 if score > 0.5 else score / 2
    checkpoint = torch.load(demo_checkpoint, map_location='cpu', weights_only=True)
    checkpoint['meta']['decision_threshold'] = dict(threshold=stored, rule='accuracy',
                                                    iteration=8)
    calibrated = folder / 'calibrated.pth'
    torch.save(checkpoint, calibrated)
    return dict(path=path, score=score, stored=stored, checkpoint=str(calibrated),
                plain=plain)


def test_the_inferencer_decides_at_the_stored_threshold(face):
    inferencer = ForgeryInferencer(DEMO, face['checkpoint'], device='cpu')
    assert inferencer.threshold == face['stored']
    assert inferencer.decision.source == 'calibrated'
    assert 'best accuracy' in inferencer.decision.description
    pred = inferencer.predict_image(cv2.imread(str(face['path'])), 'face.png')
    assert pred.fake_probability == pytest.approx(face['score'], abs=1e-6)
    assert pred.is_fake == (face['score'] > face['stored']) != (face['score'] > 0.5)
    if not pred.is_fake:  # the mask follows the decision (mask_from_fake_only)
        assert not pred.mask.any()
    # a threshold given wins over the stored one
    given = ForgeryInferencer(DEMO, face['checkpoint'], device='cpu', threshold=0.5)
    assert given.threshold == 0.5 and given.decision.source == 'given'
    assert given.predict_image(cv2.imread(str(face['path'])), 'face.png').is_fake == (
        face['score'] > 0.5)


def test_a_checkpoint_without_one_decides_at_one_half_and_says_so(face):
    assert face['plain'].threshold == 0.5 and face['plain'].decision.source == 'default'
    assert 'carries no calibrated threshold' in face['plain'].decision.description


def test_infer_py_uses_the_stored_threshold(face, tmp_path, capsys):
    out = tmp_path / 'out'
    assert tool_exit('infer.py', DEMO, face['checkpoint'], face['path'], '--out', out,
                     '--device', 'cpu') == ''
    assert f'decision threshold {face["stored"]:.4f} (calibrated' in capsys.readouterr().out
    record = json.loads(open(out / 'predictions.jsonl').readline())
    assert record['is_fake'] == (face['score'] > face['stored']) != (face['score'] > 0.5)
    out = tmp_path / 'given'
    assert tool_exit('infer.py', DEMO, face['checkpoint'], face['path'], '--out', out,
                     '--device', 'cpu', '--threshold', '0.5') == ''
    assert json.loads(open(out / 'predictions.jsonl').readline())['is_fake'] == (
        face['score'] > 0.5)


def test_the_web_page_analysis_uses_the_stored_threshold(face):
    inferencer = ForgeryInferencer(DEMO, face['checkpoint'], device='cpu')
    result = analyse_file(inferencer, str(face['path']))
    expected = 'FAKE' if face['score'] > face['stored'] else 'real'
    assert result.verdict.startswith(expected) and f'{face["stored"]:.4g}' in result.verdict
    assert (face['score'] > face['stored']) != (face['score'] > 0.5)
