"""tools/web_demo.py in a real headless browser: the page started as a user starts it (on
127.0.0.1, a free port, the demo config with a random-weight checkpoint), an image and a
video uploaded, and what the page shows compared with ForgeryInferencer on the same files;
each upload deleted once analysed. Then the function the page runs on an upload
(``analyse_upload``) on files it must refuse, and the tool's arguments.

Needs Chromium (``apt-get install -y chromium``; tools/setup_env.sh installs it when run as
root) and playwright (pip; it drives the system Chromium, no browser download).
"""
import glob
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from unittest import mock

import cv2
import numpy as np
import pytest
import torch

from dadf_mm.apis.inference import ForgeryInferencer, render
from dadf_mm.datasets import LoadForgeryImage
from dadf_mm.datasets.errors import ForgeryDataError
from dadf_mm.engine import training_data_record
from dadf_mm.models.segmentors.dadf import DADF
from tests.helpers.image_files import drifting_face_video, huge_png, truncated_jpeg
from tests.helpers.tool_runs import DEMO, ROOT, tool_exit

from web_page import analyse_upload, for_display

INSTALL = dict(
    Chromium='apt-get install -y chromium (bash tools/setup_env.sh runs it as root)',
    playwright='.venv/bin/pip install playwright==1.65.2 (bash tools/setup_env.sh does it)')
NUM_FRAMES, TOP_K = 6, 3
SCORE_JS = """() => { const e = document.querySelector('#score textarea, #score input');
                      return e !== null && e.value !== ''; }"""


def _missing(what: str) -> None:
    """Fail in CI (the test must run there), else skip with the install command."""
    message = f'{what} not found: install it with `{INSTALL[what]}`'
    if os.environ.get('CI'):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope='module')
def chromium() -> str:
    for name in (os.environ.get('DADF_CHROMIUM', ''), 'chromium', 'chromium-browser',
                 'google-chrome'):
        path = shutil.which(name) if name else None
        if path:
            return path
    _missing('Chromium')


@pytest.fixture(scope='module')
def browser(chromium):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing('playwright')
    with sync_playwright() as driver:
        # --no-sandbox: Chromium refuses to start as root with its sandbox on
        launched = driver.chromium.launch(executable_path=chromium, args=['--no-sandbox'])
        yield launched
        launched.close()


@pytest.fixture(scope='module')
def demo_checkpoint(tmp_path_factory) -> str:
    """The demo config's model with random weights, saved as tools/train.py would."""
    from mmengine.config import Config
    from mmseg.apis import init_model
    cfg = Config.fromfile(DEMO)
    torch.manual_seed(0)
    model = init_model(cfg, None, device='cpu')
    model.init_weights()
    path = str(tmp_path_factory.mktemp('web_ckpt') / 'demo.pth')
    torch.save({'meta': {'training_data': training_data_record(cfg)},
                'state_dict': model.state_dict()}, path)
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture(scope='module')
def page_server(demo_checkpoint, tmp_path_factory):
    """``tools/web_demo.py`` serving on 127.0.0.1; ``(url, upload folder)``."""
    uploads = tmp_path_factory.mktemp('web_uploads')
    port = _free_port()
    log = open(uploads.parent / 'web_demo.log', 'w+')
    proc = subprocess.Popen(
        [sys.executable, 'tools/web_demo.py', DEMO, demo_checkpoint, '--port', str(port),
         '--num-frames', str(NUM_FRAMES), '--top-k', str(TOP_K)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env=dict(os.environ, GRADIO_TEMP_DIR=str(uploads), PYTHONWARNINGS='ignore',
                 NO_PROXY='127.0.0.1,localhost'))
    url = f'http://127.0.0.1:{port}/'
    deadline = time.time() + 120
    try:
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f'web_demo.py exited with {proc.returncode}: {log.read()[-3000:]}')
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                pytest.fail('web_demo.py did not serve the page within 120 s')
            time.sleep(0.5)
        yield url, uploads
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    # stopped, the page leaves nothing behind (its folder, the pictures it served)
    assert list(uploads.iterdir()) == [], _files(uploads)


@pytest.fixture(scope='module')
def inferencer(demo_checkpoint) -> ForgeryInferencer:
    return ForgeryInferencer(DEMO, demo_checkpoint, device='cpu', threshold=0.5)


def _analyse(browser, url: str, path, screenshot, width: int = 1280):
    """Open the page, drop ``path`` on it, wait for the score; the page, for reading."""
    page = browser.new_page(viewport={'width': width, 'height': 1400})
    page.goto(url, wait_until='networkidle')
    page.set_input_files('#file input[type=file]', str(path))
    page.wait_for_function(SCORE_JS, timeout=60000)
    page.wait_for_selector('#overlay img', timeout=30000)
    page.screenshot(path=str(screenshot), full_page=True)
    return page


def _score(page) -> float:
    return float(page.input_value('#score textarea, #score input'))


def _picture(page, selector: str) -> np.ndarray:
    """The picture an ``<img>`` on the page shows (BGR), fetched as the browser fetched it."""
    src = page.get_attribute(selector, 'src')
    body = page.request.get(src).body()
    return cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)


def _box(page, selector: str) -> dict:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f'{selector} is not on screen'
    return box


def _overlap(a: dict, b: dict) -> float:
    """The area two bounding boxes share (px²)."""
    w = min(a['x'] + a['width'], b['x'] + b['width']) - max(a['x'], b['x'])
    h = min(a['y'] + a['height'], b['y'] + b['height']) - max(a['y'], b['y'])
    return max(w, 0) * max(h, 0)


def _labels_over(page, selector: str) -> list:
    r"""The visible labels and buttons of Gradio (block labels, ``<label>``\ s, icon
    buttons) whose boxes overlap the element ``selector`` names (not counting one that
    holds it): their texts or names."""
    target = _box(page, selector)
    covering = []
    for label in page.locator('[data-testid="block-label"], label, button').all():
        box = label.bounding_box() if label.is_visible() else None
        holds = label.evaluate('(e, s) => e.contains(document.querySelector(s))', selector)
        if box and _overlap(box, target) > 0 and not holds:
            covering.append(label.inner_text() or label.get_attribute('aria-label'))
    return covering


def _jet(value: float) -> tuple:
    """The RGB of OpenCV's JET colour map (the heat map's) at ``value`` in [0, 1]."""
    bgr = cv2.applyColorMap(np.array([[round(value * 255)]], np.uint8), cv2.COLORMAP_JET)
    return tuple(int(c) for c in bgr[0, 0, ::-1])


def test_the_page_says_which_model_it_runs_and_warns_of_synthetic_training(
        browser, page_server, demo_checkpoint, tmp_path):
    """Was: nothing on the page said which model ran or what it was trained on."""
    url, _ = page_server
    page = browser.new_page(viewport={'width': 1280, 'height': 1400})
    page.goto(url, wait_until='networkidle')
    card = page.locator('#model-card')
    card.wait_for(state='visible', timeout=30000)  # Gradio renders after the network idles
    assert card.is_visible()
    text = card.inner_text()
    assert 'dadf_sam-tiny_synthetic-demo' in text
    assert os.path.basename(demo_checkpoint) in text
    assert 'SyntheticForgeryDataset (split train)' in text
    if not torch.cuda.is_available():  # on a CPU: which encoder path runs, and why
        assert re.search(r'encoder (exact float32|fast \(float32, bfloat16 tangent;) ', text)
    warning = page.locator('#model-warning')
    warning.wait_for(state='visible', timeout=30000)
    assert warning.is_visible()
    assert ('this model was trained on synthetic data (SyntheticForgeryDataset): its scores '
            'on real photographs and videos are not evidence of forgery') in warning.inner_text()
    box = _box(page, '#model-warning')
    assert box['y'] < 700 and box['height'] > 10  # near the top, not folded away
    page.close()


def test_an_image_gets_the_inferencers_score_overlay_and_verdict(
        browser, page_server, inferencer, tmp_path):
    from skimage import data
    url, uploads = page_server
    face = cv2.resize(np.ascontiguousarray(data.astronaut()[20:220, 130:330][..., ::-1]),
                      (128, 128))
    path = tmp_path / 'face.png'
    cv2.imwrite(str(path), face)
    # a phone's width: the pictures fill their boxes (Gradio's labels covered them)
    page = _analyse(browser, url, path, tmp_path / 'page_image.png', width=480)
    expected = inferencer.predict_image(cv2.imread(str(path)), 'face.png')
    assert _score(page) == pytest.approx(expected.fake_probability, abs=1e-6)
    decision = page.input_value('#verdict textarea, #verdict input')
    assert decision.startswith('FAKE' if expected.fake_probability > 0.5 else 'real')
    overlay, _ = render(face, expected, 0.5)
    shown = _picture(page, '#overlay img')
    assert shown.shape == for_display(overlay).shape  # 128 px shown at 384
    assert np.array_equal(shown, for_display(overlay))
    assert not page.locator('#frame-curve').is_visible()  # an image has no frame curve
    # nothing covers the overlay (its banner) or the heat map (was: Gradio's labels)
    assert _labels_over(page, '#overlay img') == []
    assert _labels_over(page, '#heatmap img') == []
    # the heat map's colour scale: JET from 0 to 1, under the heat map, with its ends
    scale = page.locator('#heat-scale .heat-scale-bar')
    assert scale.is_visible()
    gradient = scale.evaluate('e => getComputedStyle(e).backgroundImage')
    stops = [tuple(map(int, c)) for c in re.findall(r'rgb\((\d+), (\d+), (\d+)\)', gradient)]
    assert stops == [_jet(v / 10) for v in range(11)]
    assert stops[0] == (0, 0, 128) and stops[-1] == (128, 0, 0)  # dark blue to dark red
    heat_box, scale_box = _box(page, '#heatmap img'), _box(page, '#heat-scale .heat-scale-bar')
    assert scale_box['y'] >= heat_box['y'] + heat_box['height'] - 1
    assert _overlap(dict(heat_box, y=scale_box['y'], height=scale_box['height']),
                    scale_box) > 0.5 * scale_box['width'] * scale_box['height']
    ticks = page.inner_text('#heat-scale')
    assert re.search(r'0(\.0)?\b.*0\.5.*\b1(\.0)?', ticks, re.S), ticks
    assert 'face.png' in page.inner_text('#details')
    assert (tmp_path / 'page_image.png').stat().st_size > 10000
    # the prediction files to download, as tools/infer.py writes them for face.png
    zipped = page.request.get(page.get_attribute('#download a', 'href')).body()
    with zipfile.ZipFile(io.BytesIO(zipped)) as archive:
        files = {n for n in archive.namelist() if not n.endswith('/')}
        [line] = map(json.loads, archive.read('predictions.jsonl').splitlines())
        stored = archive.read('probability_maps/face.png.png')
    assert files == {'predictions.jsonl', 'model.json', *(f'{sub}/face.png.png' for sub in (
        'overlays', 'heatmaps', 'masks', 'probability_maps'))}
    assert line['input'] == 'face.png'
    assert line['fake_probability'] == pytest.approx(expected.fake_probability, abs=1e-6)
    probability = cv2.imdecode(np.frombuffer(stored, np.uint8), cv2.IMREAD_UNCHANGED)
    np.testing.assert_allclose(probability / 65535, expected.probability_map, atol=1 / 65535)
    page.close()
    assert not glob.glob(str(uploads / '**' / 'face.png'), recursive=True)  # deleted



def test_a_video_gets_its_mean_score_the_frame_curve_and_the_top_frames(
        browser, page_server, inferencer, tmp_path):
    url, uploads = page_server
    path = tmp_path / 'clip.mp4'
    drifting_face_video(path, frames=8)
    page = _analyse(browser, url, path, tmp_path / 'page_video.png')
    assert not glob.glob(str(uploads / '**' / 'clip.mp4'), recursive=True)  # deleted
    # the page names the frames' noisy views by the file's name, as it names an image's
    preds = inferencer.predict_video(str(path), num_frames=NUM_FRAMES, name='clip.mp4')
    scores = {p.info['frame']: p.fake_probability for p in preds}
    assert len(scores) == NUM_FRAMES
    assert _score(page) == pytest.approx(np.mean(list(scores.values())), abs=1e-6)
    page.wait_for_selector('#frame-curve canvas, #frame-curve svg', timeout=30000)
    assert page.locator('#frame-curve').is_visible()
    page.wait_for_function(
        f"() => document.querySelectorAll('#top-frames img').length >= {TOP_K}",
        timeout=30000)
    page.wait_for_timeout(500)  # let the plot and the pictures paint
    page.screenshot(path=str(tmp_path / 'page_video.png'), full_page=True)  # all drawn
    shown = [(int(f), float(s)) for f, s in
             re.findall(r'frame (\d+): ([0-9.]+)', page.inner_text('#top-frames'))]
    top = sorted(scores.items(), key=lambda item: item[1], reverse=True)[:TOP_K]
    assert [f for f, _ in shown] == [f for f, _ in top]
    assert [s for _, s in shown] == pytest.approx([s for _, s in top], abs=1e-4)
    assert f'{NUM_FRAMES} frames sampled' in page.inner_text('#details')
    # nothing covers the first tile of the gallery (was: Gradio's label)
    assert _labels_over(page, '#top-frames img') == []
    assert 'highest-scoring frames' in page.inner_text('#top-frames-title')
    page.close()


def test_a_huge_image_is_refused_on_the_page_with_a_message(browser, page_server, tmp_path):
    """A 97 KB PNG of 10000x10000 pixels (was: decoded, the server grew by 2.3 GB and held
    its single queue for 24 s): the page says why, and the upload is deleted."""
    url, uploads = page_server
    huge = huge_png(tmp_path / 'huge.png')
    page = browser.new_page(viewport={'width': 1280, 'height': 1400})
    page.goto(url, wait_until='networkidle')
    started = time.time()
    page.set_input_files('#file input[type=file]', str(huge))
    shown = page.wait_for_selector('text=/huge\\.png is too large/', timeout=60000)
    assert time.time() - started < 20
    assert '100.0 megapixels; the limit is 40' in shown.inner_text()  # Pillow's guard too
    assert page.input_value('#score textarea, #score input') == ''
    page.close()
    assert not glob.glob(str(uploads / '**' / 'huge.png'), recursive=True)


def test_a_file_the_page_cannot_read_is_refused_with_its_name(tmp_path):
    from web_page import analyse_file
    notes = tmp_path / 'notes.txt'
    notes.write_text('not a picture')
    with pytest.raises(ValueError, match=r'^notes\.txt: not an image or a video'):
        analyse_file(None, str(notes), threshold=0.5)
    broken = tmp_path / 'broken.jpg'
    broken.write_bytes(b'not an image')
    with pytest.raises(ValueError, match=r'^image broken\.jpg cannot be decoded as an image'):
        analyse_file(None, str(broken), threshold=0.5)


def test_a_work_dir_resolves_to_its_best_checkpoint(tmp_path):
    from dadf_mm.engine import resolve_checkpoint
    with pytest.raises(FileNotFoundError, match='no checkpoint in'):
        resolve_checkpoint(str(tmp_path))
    torch.save({'meta': {}, 'state_dict': {'w': torch.ones(1)}}, str(tmp_path / 'iter_4.pth'))
    assert resolve_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_4.pth')
    (tmp_path / 'best_AUC_iter_2.pth').write_bytes(b'')
    assert resolve_checkpoint(str(tmp_path)) == str(tmp_path / 'best_AUC_iter_2.pth')
    assert resolve_checkpoint(str(tmp_path / 'iter_4.pth')) == str(tmp_path / 'iter_4.pth')
    message = tool_exit('web_demo.py', DEMO, tmp_path / 'gone.pth')
    assert message.startswith("web_demo.py: checkpoint '") and 'not found' in message


def _upload(folder, source) -> str:
    """``source`` as the page's server stores an upload: in a folder of its own."""
    target = folder / 'f3c1a9' / source.name
    target.parent.mkdir(parents=True)
    shutil.copy(source, target)
    return str(target)


def _files(folder) -> list:
    return sorted(p for p in glob.glob(str(folder / '**'), recursive=True)
                  if not os.path.isdir(p))


def test_every_upload_is_deleted_once_analysed(inferencer, tmp_path):
    """Was: every upload, refused ones too, stayed in the server's temporary folder."""
    folder = tmp_path / 'uploads'
    folder.mkdir()
    keep = tmp_path / 'mine.png'  # not an upload: never touched
    cv2.imwrite(str(keep), np.full((64, 64, 3), 90, np.uint8))
    result = analyse_upload(inferencer, _upload(folder, keep), upload_folder=str(folder),
                            threshold=0.5)
    expected = inferencer.predict_image(cv2.imread(str(keep)), 'mine.png')
    assert result.score == pytest.approx(expected.fake_probability, abs=1e-6)
    assert list(folder.iterdir()) == [] and keep.exists()
    notes = tmp_path / 'notes.txt'
    notes.write_text('not a picture')
    for source, words in ((truncated_jpeg(tmp_path / 'cut.jpg'), 'cannot be decoded'),
                          (huge_png(tmp_path / 'huge.png'), 'is too large'),
                          (notes, 'not an image or a video')):
        with pytest.raises(ValueError, match=words):
            analyse_upload(inferencer, _upload(folder, source), upload_folder=str(folder),
                           threshold=0.5)
        assert list(folder.iterdir()) == []
    with pytest.raises(ValueError, match='mine.png was analysed and deleted from the server '
                       'already: drop it again'):
        analyse_upload(inferencer, str(folder / 'f3c1a9' / 'mine.png'),
                       upload_folder=str(folder), threshold=0.5)
    analyse_upload(inferencer, str(keep), upload_folder=str(folder), threshold=0.5)
    assert keep.exists()  # outside the upload folder


def test_the_page_refuses_a_truncated_jpeg_as_the_dataset_does(tmp_path):
    """Was: scored (OpenCV's file reader decodes the half that is there)."""
    from web_page import analyse_file
    cut = truncated_jpeg(tmp_path / 'cut.jpg')
    with pytest.raises(ForgeryDataError) as dataset:
        LoadForgeryImage()(dict(img_path=str(cut)))
    with pytest.raises(ValueError) as page:
        analyse_file(None, str(cut), threshold=0.5)
    assert str(page.value) == str(dataset.value).replace(str(cut), 'cut.jpg')
    assert str(page.value).startswith('image cut.jpg cannot be decoded as an image (')


def test_the_page_shows_no_score_for_a_nan_probability(inferencer, tmp_path):
    """Was: "nan" and the decision "real"."""
    from web_page import analyse_file
    face = tmp_path / 'face.png'
    cv2.imwrite(str(face), np.full((64, 64, 3), 90, np.uint8))
    predict = DADF.predict

    def nan_scores(self, inputs, data_samples=None):
        results = predict(self, inputs, data_samples)
        for sample in results:
            sample.set_field(sample.pred_score * float('nan'), 'pred_score')
        return results

    with mock.patch.object(DADF, 'predict', nan_scores), \
            pytest.raises(ValueError, match=r'gives a fake probability nan \(not a finite '
                          r'number\) for face\.png: '):
        analyse_file(inferencer, str(face), threshold=0.5)


def test_build_page_sets_pillows_limit(inferencer):
    pytest.importorskip('gradio')
    from PIL import Image

    from web_page import build_page
    before = Image.MAX_IMAGE_PIXELS
    try:
        build_page(inferencer, max_megapixels=12.5)
        assert Image.MAX_IMAGE_PIXELS == 12_500_000
    finally:
        Image.MAX_IMAGE_PIXELS = before


def _no_model(*args, **kwargs):
    raise AssertionError('a model was built for arguments that should have been refused')


@pytest.mark.parametrize('option,value,words', [
    ('--port', '99999', "must be a port from 1 to 65535 (e.g. 7860), not '99999'"),
    ('--port', '0', "must be a port from 1 to 65535 (e.g. 7860), not '0'"),
    ('--num-frames', '0', "must be a whole number of 1 or more, not '0'"),
    ('--top-k', '0', "must be a whole number of 1 or more, not '0'"),
    ('--threshold', 'nan', "must be a number from 0 to 1 (e.g. 0.5), not 'nan'"),
    ('--max-megapixels', '0', "must be a number above 0, not '0'"),
    ('--device', 'tpu', "unknown device 'tpu': use 'cpu', 'cuda' or 'cuda:N'"),
])
def test_a_wrong_argument_is_one_line_before_any_model(demo_checkpoint, option, value, words):
    """Was: OverflowError traceback after the model was built (port 99999)."""
    with mock.patch.object(ForgeryInferencer, '__init__', _no_model):
        message = tool_exit('web_demo.py', DEMO, demo_checkpoint, option, value)
    assert message == (f'web_demo.py: argument {option}: {words} '
                       '(see python tools/web_demo.py --help)')


def test_a_port_in_use_is_one_line_before_any_model(demo_checkpoint):
    """Was: Gradio's "Cannot find empty port" after the model was built."""
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        with mock.patch.object(ForgeryInferencer, '__init__', _no_model):
            message = tool_exit('web_demo.py', DEMO, demo_checkpoint, '--port', port)
    assert message == (f'web_demo.py: cannot listen on 127.0.0.1:{port} (Address already in '
                       'use); pass another --port (or stop what uses it)')
    with mock.patch.object(ForgeryInferencer, '__init__', _no_model):
        message = tool_exit('web_demo.py', DEMO, demo_checkpoint, '--host', '192.0.2.1')
    assert message == ('web_demo.py: cannot listen on 192.0.2.1:7860 (Cannot assign requested '
                       "address); --host '192.0.2.1' is not an address of this machine: pass "
                       '--host 127.0.0.1 or one of its addresses')
