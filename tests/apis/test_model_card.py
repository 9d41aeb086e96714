"""Which model runs: what a training run records in its checkpoints (the training data),
what the inferencer and tools/infer.py say of it. Was: nothing said which model ran or what
it was trained on."""
import json
import sys

import pytest
import torch
from mmengine.config import Config

from dadf_mm.apis import ForgeryInferencer
from dadf_mm.engine import TrainingDataHook, training_data_record
from tests.helpers.inference_cases import DEMO, face_like
from tests.helpers.tool_runs import FAST_DATA, SHORT_RUN, run_process, tool_exit

DEMO_DATA = dict(datasets=[dict(type='SyntheticForgeryDataset', synthetic=True,
                                split='train')], synthetic=True)


@pytest.fixture(scope='module')
def recorded_checkpoint(demo_checkpoint, tmp_path_factory) -> str:
    """The demo checkpoint with the training data a run of the demo config records."""
    saved = torch.load(demo_checkpoint, weights_only=False)
    saved['meta'].update(training_data=DEMO_DATA, iter=1500)
    path = str(tmp_path_factory.mktemp('recorded') / 'iter_1500.pth')
    torch.save(saved, path)
    return path


def test_the_record_of_the_demo_config_and_of_real_data():
    assert training_data_record(Config.fromfile(DEMO)) == DEMO_DATA
    cfg = Config(dict(train_dataloader=dict(dataset=dict(type='ConcatDataset', datasets=[
        dict(type='FFPPDataset', data_root='data/ffpp', split='train'),
        dict(type='RepeatDataset', times=2, dataset=dict(type='SyntheticForgeryDataset'))]))))
    assert training_data_record(cfg) == dict(datasets=[
        dict(type='FFPPDataset', synthetic=False, data_root='data/ffpp', split='train'),
        dict(type='SyntheticForgeryDataset', synthetic=True)], synthetic=True)
    assert training_data_record(Config(dict(model=dict()))) is None


def test_the_hook_writes_the_record_into_the_checkpoint_meta():
    class Runner:
        cfg = Config.fromfile(DEMO)

    checkpoint = dict(meta=dict(iter=3))
    TrainingDataHook().before_save_checkpoint(Runner(), checkpoint)
    assert checkpoint['meta'] == dict(iter=3, training_data=DEMO_DATA)


def test_a_training_run_records_its_training_data(tmp_path):
    done = run_process([sys.executable, 'tools/train.py', DEMO, '--work-dir', str(tmp_path),
                        '--cfg-options', *FAST_DATA, *SHORT_RUN,
                        'train_cfg.max_iters=2', 'train_cfg.val_interval=100'])
    assert done.returncode == 0, done.stderr[-3000:]
    meta = torch.load(tmp_path / 'iter_2.pth', weights_only=False)['meta']
    assert meta['training_data'] == DEMO_DATA


def test_the_inferencer_describes_its_model(recorded_checkpoint, demo_checkpoint):
    card = ForgeryInferencer(DEMO, recorded_checkpoint, device='cpu').model_card
    assert card.config == 'dadf_sam-tiny_synthetic-demo'
    assert card.checkpoint == recorded_checkpoint and card.trained_iterations == 1500
    assert card.trained_on == 'SyntheticForgeryDataset (split train)'
    assert card.warning == ('this model was trained on synthetic data '
                            '(SyntheticForgeryDataset): its scores on real photographs and '
                            'videos are not evidence of forgery')
    # a checkpoint saved before the record existed: the config's training data, said so
    old = ForgeryInferencer(DEMO, demo_checkpoint, device='cpu').model_card
    assert old.trained_on == ('SyntheticForgeryDataset (split train), from the config (the '
                              'checkpoint does not record it)')
    assert old.warning is not None
    untrained = ForgeryInferencer(DEMO, device='cpu').model_card
    assert untrained.warning is None and 'initial weights' in untrained.trained_on


def test_infer_prints_and_writes_the_model(recorded_checkpoint, tmp_path, capsys):
    import cv2
    cv2.imwrite(str(tmp_path / 'face.png'), face_like(64, 64))
    assert tool_exit('infer.py', DEMO, recorded_checkpoint, tmp_path / 'face.png', '--out',
                     tmp_path / 'out', '--device', 'cpu') == ''
    out, _ = capsys.readouterr()
    lines = out.splitlines()  # after mmengine's "Loads checkpoint ..."
    lines = lines[next(i for i, line in enumerate(lines) if line.startswith('model:')):]
    assert lines[:4] == [
        f'model: dadf_sam-tiny_synthetic-demo ({DEMO})',
        f'checkpoint: {recorded_checkpoint}, saved at iteration 1500',
        'trained on: SyntheticForgeryDataset (split train)',
        'WARNING: this model was trained on synthetic data (SyntheticForgeryDataset): its '
        'scores on real photographs and videos are not evidence of forgery']
    model = json.load(open(tmp_path / 'out' / 'model.json'))
    assert model['config'] == 'dadf_sam-tiny_synthetic-demo'
    assert model['checkpoint'] == recorded_checkpoint
    assert model['training_data'] == DEMO_DATA['datasets'] and model['synthetic'] is True
    assert model['warning'].startswith('this model was trained on synthetic data')
