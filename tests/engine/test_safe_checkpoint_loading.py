"""mmengine checkpoints resume under weights_only=True; nothing else gets unpickled."""
import os
import subprocess
import sys

import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer

import dadf_mm  # noqa: F401  (installs the allow-list)
from tests.helpers.toy_runner import ToyModel, make_runner


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
