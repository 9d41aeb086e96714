"""mmengine checkpoints resume under weights_only=True; nothing else gets unpickled."""
import os
import subprocess
import sys

import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

import dadf_mm  # noqa: F401  (installs the allow-list)
from tests.tools.crash_hook import CrashAfterIter


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


class ToyDataset(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return dict(inputs=torch.tensor([float(i), 1.0]))


def make_runner(work_dir, max_iters, resume=False, crash_at=None):
    torch.manual_seed(0)  # the model is built before the runner seeds
    return Runner(
        custom_hooks=[CrashAfterIter(crash_at)] if crash_at else None,
        model=ToyModel(), work_dir=str(work_dir), resume=resume,
        train_dataloader=dict(dataset=ToyDataset(), batch_size=2, collate_fn=dict(
            type='pseudo_collate'), sampler=dict(type='DefaultSampler', shuffle=True)),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.01)),
        param_scheduler=dict(type='CosineAnnealingLR', T_max=8, by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)),
        randomness=dict(seed=0, deterministic=True))


def test_resume_loads_under_weights_only(tmp_path):
    make_runner(tmp_path, 4).train()
    ckpt = tmp_path / 'iter_4.pth'
    state = torch.load(str(ckpt), map_location='cpu', weights_only=True)
    assert isinstance(state['message_hub']['log_scalars']['train/loss'], HistoryBuffer)

    runner = make_runner(tmp_path, 6, resume=True)
    runner.train()
    assert runner.iter == 6
    loss_history = runner.message_hub.get_scalar('train/loss')
    assert loss_history.mean() > 0


def test_resume_from_full_training_matches_uninterrupted(tmp_path):
    a = make_runner(tmp_path / 'a', 6)
    a.train()
    with pytest.raises(SystemExit, match='simulated crash after iteration 4'):
        make_runner(tmp_path / 'b', 6, crash_at=4).train()
    b = make_runner(tmp_path / 'b', 6, resume=True)
    b.train()
    for (name, pa), pb in zip(a.model.named_parameters(), b.model.parameters()):
        assert torch.equal(pa, pb), name


def test_without_the_allow_list_torch_refuses_mmengine_checkpoints(tmp_path):
    make_runner(tmp_path, 2).train()
    code = ('import torch, sys; torch.load(sys.argv[1], weights_only=True)')
    proc = subprocess.run([sys.executable, '-c', code, str(tmp_path / 'iter_2.pth')],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and 'HistoryBuffer' in proc.stderr


class _Payload:

    def __reduce__(self):
        return (os.system, (f'touch {_Payload.marker}', ))


class _GetattrPayload:

    def __reduce__(self):  # getattr(HistoryBuffer, '__init__') would lead to its globals
        return (getattr, (HistoryBuffer, '__init__'))


@pytest.mark.parametrize('payload', [_Payload, _GetattrPayload])
def test_code_in_a_checkpoint_is_refused_and_not_run(tmp_path, payload):
    from mmengine.runner import load_checkpoint
    _Payload.marker = str(tmp_path / 'executed')
    path = str(tmp_path / 'evil.pth')
    torch.save({'state_dict': {}, 'meta': {'x': payload()}}, path)
    with pytest.raises(Exception, match='(?i)unpickl|weights_only|refused'):
        load_checkpoint(ToyModel(), path, map_location='cpu')
    assert not os.path.exists(_Payload.marker)
