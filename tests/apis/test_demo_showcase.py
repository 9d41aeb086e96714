"""tools/demo_showcase.py shows real and fake test images with their truth, and its verdicts
agree with the scores it reports."""
import json

import cv2

from dadf_mm.visualization import RIGHT_RGB, WRONG_RGB
from tests.helpers.inference_cases import DEMO
from tests.helpers.tool_runs import tool_exit


def test_showcase_shows_truth_and_verdict(demo_checkpoint, tmp_path):
    out = tmp_path / 'showcase'
    assert tool_exit('demo_showcase.py', DEMO, demo_checkpoint, '--out', out,
                     '--per-class', 2, '--device', 'cpu') == ''
    records = [json.loads(line) for line in open(out / 'showcase.jsonl')]
    assert [r['truth'] for r in records] == [0, 0, 1, 1]  # reals first, then fakes
    for r in records:
        assert r['is_fake'] == (r['fake_probability'] > 0.5)
        assert r['correct'] == (r['is_fake'] == bool(r['truth']))
        assert r['picture'].startswith('fake_' if r['truth'] else 'real_')
        picture = cv2.imread(str(out / r['picture']))[..., ::-1]
        assert tuple(picture[0, -1]) == (RIGHT_RGB if r['correct'] else WRONG_RGB)
        assert (out / 'inputs' / r['picture']).is_file()
    sheet = cv2.imread(str(out / 'showcase.png'))
    assert sheet.shape[0] > 2 * 256 and sheet.shape[1] > 2 * 2 * 256
