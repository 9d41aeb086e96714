"""tools/infer.py writes, per image, the mask and the probability map as files, at the
image's size, agreeing with its predictions.jsonl and with the inferencer."""
import json

import cv2
import numpy as np
import pytest

from dadf_mm.apis.inference import ForgeryInferencer, read_probability_map
from tests.helpers.inference_cases import DEMO, face_like
from tests.helpers.tool_runs import tool_exit


@pytest.mark.parametrize('threshold', ['0.5', '0.0'])
def test_infer_writes_mask_and_probability_map(demo_checkpoint, tmp_path, threshold):
    inputs = tmp_path / 'inputs'
    inputs.mkdir()
    images = {'small.png': face_like(64, 64, seed=4), 'wide.jpg': face_like(333, 777, seed=5)}
    for name, image in images.items():
        cv2.imwrite(str(inputs / name), image)
    out = tmp_path / 'out'
    assert tool_exit('infer.py', DEMO, demo_checkpoint, inputs, '--out', out,
                     '--threshold', threshold, '--device', 'cpu') == ''
    records = {r['input'].split('/')[-1]: r
               for r in map(json.loads, open(out / 'predictions.jsonl'))}
    assert set(records) == set(images)
    reference = ForgeryInferencer(DEMO, demo_checkpoint, device='cpu',
                                  threshold=float(threshold))
    for name in images:
        record = records[name]
        assert record['mask'] == f'masks/{name}.png'
        assert record['probability_map'] == f'probability_maps/{name}.png'
        mask = cv2.imread(str(out / record['mask']), cv2.IMREAD_UNCHANGED)
        prob = read_probability_map(str(out / record['probability_map']))
        # as read back from disk (a JPEG decodes to other pixels than were encoded)
        image = cv2.imread(str(inputs / name))
        expected = reference.predict_image(image, str(inputs / name))
        assert mask.dtype == np.uint8 and mask.shape == image.shape[:2]
        assert set(np.unique(mask)) <= {0, 255}
        assert prob.shape == image.shape[:2]
        np.testing.assert_allclose(prob, expected.probability_map, atol=1 / 65535)
        assert record['fake_probability'] == pytest.approx(expected.fake_probability,
                                                           abs=1e-6)
        assert record['is_fake'] == (record['fake_probability'] > float(threshold))
        # the mask is the decision's: the map above 0.5 on a face judged fake, else empty
        np.testing.assert_array_equal(mask == 255, (prob > 0.5) & record['is_fake'])
        assert record['forged_area'] == pytest.approx((mask == 255).mean(), abs=1e-6)
    if threshold == '0.0':  # every face judged fake: the masks cannot all be empty
        assert any(cv2.imread(str(out / r['mask'])).any() for r in records.values())
