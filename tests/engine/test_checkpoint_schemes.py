"""No checkpoint, from any address, runs code: a malicious pickle served over HTTP on
127.0.0.1 reaches every loader of mmengine's CheckpointLoader (http, torchvision, model
zoo, open-mmlab, mmcls, s3 / petrel, pavi), ``init_cfg=Pretrained`` and every tool
argument and config key that takes a checkpoint. Was: mmengine's URL loaders unpickle with
``weights_only=False`` (torch.hub), the code runs and the file stays in the hub cache."""
import sys
import types
from types import SimpleNamespace

import pytest
import torch
from mmengine.model import BaseModule
from mmengine.runner import checkpoint as mm_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader
from torch import nn

import dadf_mm  # noqa: F401  (installs the weights-only loaders)
from dadf_mm.engine import CheckpointFileError
from dadf_mm.engine.checkpoint_schemes import SAFE_LOADERS
from tests.helpers.tool_runs import DEMO, FAST_DATA, SHORT_RUN, tool_exit


def _address(scheme: str, server, monkeypatch) -> str:
    """An address of ``scheme`` that leads to the served malicious file."""
    if scheme == 'http':
        return server.url
    if scheme in ('torchvision', 'modelzoo'):
        monkeypatch.setattr(mm_checkpoint, 'get_torchvision_models', lambda: {'evil': server.url})
        return f'{scheme}://evil'
    if scheme in ('open-mmlab', 'openmmlab'):
        monkeypatch.setattr(mm_checkpoint, 'get_external_models', lambda: {'evil': server.url})
        monkeypatch.setattr(mm_checkpoint, 'get_deprecated_model_names', lambda: {})
        return f'{scheme}://evil'
    if scheme == 'mmcls':
        monkeypatch.setattr(mm_checkpoint, 'get_mmcls_models', lambda: {'evil': server.url})
        return 'mmcls://evil'
    if scheme in ('s3', 'petrel', 'cluster:s3'):
        store = SimpleNamespace(get=lambda path: server.data)
        import mmengine.fileio
        monkeypatch.setattr(mmengine.fileio, 'get_file_backend', lambda *a, **k: store)
        monkeypatch.setattr(mm_checkpoint, 'get_file_backend', lambda *a, **k: store)
        return f'{scheme}://bucket/evil.pth'
    if scheme == 'pavi':
        class Model:
            name = 'evil.pth'

            def download(self, path: str) -> None:
                open(path, 'wb').write(server.data)

        pavi = types.ModuleType('pavi')
        pavi.modelcloud = SimpleNamespace(get=lambda path: Model())
        monkeypatch.setitem(sys.modules, 'pavi', pavi)
        return 'pavi://evil'
    raise ValueError(scheme)


SCHEMES = ['http', 'torchvision', 'modelzoo', 'open-mmlab', 'openmmlab', 'mmcls', 's3',
           'petrel', 'cluster:s3', 'pavi']


def test_every_registered_scheme_has_a_weights_only_loader():
    for prefix, loader in CheckpointLoader._schemes.items():
        assert loader in SAFE_LOADERS.values() or loader.__name__ == '_refuse', prefix
    for scheme in SCHEMES:
        found = CheckpointLoader._get_checkpoint_loader(f'{scheme}://x')
        assert found in SAFE_LOADERS.values(), scheme


@pytest.mark.parametrize('scheme', SCHEMES)
def test_a_malicious_checkpoint_from_any_address_runs_no_code(evil_server, monkeypatch,
                                                              scheme):
    address = _address(scheme, evil_server, monkeypatch)
    with pytest.raises(CheckpointFileError) as err:
        CheckpointLoader.load_checkpoint(address, map_location='cpu')
    message = str(err.value)
    assert '\n' not in message and 'refused' in message and 'system' in message, message
    assert (evil_server.url in message) or (address in message), message
    assert not evil_server.marker.exists()
    assert not list(evil_server.hub.rglob('*.pth'))  # nothing refused stays in the cache


def test_a_scheme_registered_by_other_code_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(CheckpointLoader, '_schemes', dict(CheckpointLoader._schemes))
    calls = []
    CheckpointLoader.register_scheme('unsafe://', lambda f, m=None: calls.append(f))
    with pytest.raises(CheckpointFileError, match='no weights-only loader'):
        CheckpointLoader.load_checkpoint('unsafe://x')
    assert calls == []


def test_a_good_checkpoint_still_loads_by_url(evil_server, tmp_path):
    """The weights-only loader is a loader: a plain file by URL loads and is cached."""
    good = {'state_dict': {'linear.weight': torch.ones(1, 2)}}
    served = evil_server.url.replace('evil.pth', 'good.pth')
    torch.save(good, str(tmp_path / 'served' / 'good.pth'))
    loaded = CheckpointLoader.load_checkpoint(served, map_location='cpu')
    assert torch.equal(loaded['state_dict']['linear.weight'], torch.ones(1, 2))
    assert (evil_server.hub / 'checkpoints' / 'good.pth').is_file()
    assert CheckpointLoader.load_checkpoint(served)['state_dict'].keys() == {'linear.weight'}
    assert evil_server.requests.count('/good.pth') == 1  # the second load used the cache


class _Pretrained(BaseModule):

    def __init__(self, checkpoint: str) -> None:
        super().__init__(init_cfg=dict(type='Pretrained', checkpoint=checkpoint))
        self.w = nn.Parameter(torch.zeros(2))


def test_init_cfg_pretrained_from_a_url_runs_no_code(evil_server):
    with pytest.raises(CheckpointFileError, match='refused'):
        _Pretrained(evil_server.url).init_weights()
    assert not evil_server.marker.exists()


def test_load_from_a_url_stops_train_py_in_one_line(evil_server, tmp_path):
    work = tmp_path / 'work'
    message = tool_exit('train.py', DEMO, '--work-dir', work, '--cfg-options', *FAST_DATA,
                        *SHORT_RUN, f'load_from={evil_server.url}')
    assert message.startswith(f'train.py: checkpoint {evil_server.url} refused'), message
    assert 'system' in message and '\n' not in message
    assert not evil_server.marker.exists() and not list(work.glob('*.pth'))


@pytest.mark.parametrize('tool', ['train.py --resume', 'test.py', 'infer.py', 'web_demo.py',
                                  'model.sam_checkpoint'])
def test_a_url_given_to_any_tool_argument_runs_no_code(evil_server, tmp_path, tool):
    url, work = evil_server.url, tmp_path / 'work'
    args = {'train.py --resume': ['train.py', DEMO, '--resume', url, '--work-dir', work],
            'test.py': ['test.py', DEMO, url, '--work-dir', work],
            'infer.py': ['infer.py', DEMO, url, tmp_path, '--out', tmp_path / 'out'],
            'web_demo.py': ['web_demo.py', DEMO, url],
            'model.sam_checkpoint': ['train.py', DEMO, '--work-dir', work, '--cfg-options',
                                     *FAST_DATA, f'model.sam_checkpoint={url}']}[tool]
    message = tool_exit(*args)
    assert message.startswith(f'{args[0]}: ') and url in message and '\n' not in message
    assert not evil_server.marker.exists() and not (tmp_path / 'out').exists()
