"""One writer of prediction files: tools/infer.py's output folder and the web page's
download of the same image or video hold the same files with the same bytes."""
import json
import zipfile

import cv2
import numpy as np
import pytest

from dadf_mm.apis.inference import ForgeryInferencer, read_probability_map
from tests.helpers.image_files import drifting_face_video
from tests.helpers.inference_cases import DEMO, face_like
from tests.helpers.tool_runs import tool_exit

from web_page import analyse_upload

FOLDERS = ('overlays', 'heatmaps', 'masks', 'probability_maps')



def _files(folder) -> dict:
    """Relative path -> bytes of every file under ``folder``."""
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob('*')) if p.is_file()}


@pytest.mark.parametrize('name', ['face.png', 'clip.mp4'])
def test_the_page_download_is_what_infer_writes(demo_checkpoint, tmp_path, monkeypatch,
                                                name):
    inputs = tmp_path / 'inputs'
    inputs.mkdir()
    if name.endswith('.mp4'):
        drifting_face_video(inputs / name)
    else:
        cv2.imwrite(str(inputs / name), face_like(96, 80, seed=3))
    monkeypatch.chdir(inputs)  # infer.py then names the input as the page does: its name
    assert tool_exit('infer.py', DEMO, demo_checkpoint, name, '--out', tmp_path / 'infer',
                     '--device', 'cpu', '--num-frames', '3') == ''
    written = _files(tmp_path / 'infer')

    uploads = tmp_path / 'uploads'
    uploads.mkdir()
    upload = uploads / name
    upload.write_bytes((inputs / name).read_bytes())
    inferencer = ForgeryInferencer(DEMO, demo_checkpoint, device='cpu')
    result = analyse_upload(inferencer, str(upload), upload_folder=str(uploads),
                            threshold=0.5, num_frames=3, downloads=str(tmp_path / 'page'))
    assert not upload.exists()
    with zipfile.ZipFile(result.download) as archive:
        archive.extractall(tmp_path / 'download')
    offered = _files(tmp_path / 'download')

    # every kind of file, for each image or frame, and the lines: the same bytes
    lines = [json.loads(line) for line in written['predictions.jsonl'].splitlines()]
    pictures = [line for line in lines if 'mask' in line]
    assert len(pictures) == (3 if name.endswith('.mp4') else 1)
    assert sorted(written) == sorted(
        ['predictions.jsonl', 'model.json'] + [line[key] for line in pictures for key in
                                 ('overlay', 'heatmap', 'mask', 'probability_map')])
    assert {path.split('/')[0] for path in written} == {*FOLDERS, 'predictions.jsonl',
                                                        'model.json'}
    assert offered == written
    # and what they hold is the page's prediction: the score it shows, the map it drew
    assert lines[-1]['fake_probability'] == pytest.approx(result.score, abs=1e-6)
    if not name.endswith('.mp4'):
        probability = read_probability_map(str(tmp_path / 'infer' / pictures[0]
                                               ['probability_map']))
        expected = inferencer.predict_image(cv2.imread(str(inputs / name)), name)
        np.testing.assert_allclose(probability, expected.probability_map, atol=1 / 65535)


def test_without_a_downloads_folder_the_page_writes_nothing(demo_checkpoint, tmp_path):
    upload = tmp_path / 'face.png'
    cv2.imwrite(str(upload), face_like(64, 64, seed=1))
    inferencer = ForgeryInferencer(DEMO, demo_checkpoint, device='cpu')
    result = analyse_upload(inferencer, str(upload), upload_folder=str(tmp_path),
                            threshold=0.5)
    assert result.download is None and list(tmp_path.iterdir()) == []
