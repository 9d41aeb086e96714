"""A demo-config DADF at random initialisation saved as a trained checkpoint (seconds)."""
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from tests.helpers.inference_cases import DEMO


@pytest.fixture(scope='session')
def demo_checkpoint(tmp_path_factory) -> str:
    """The demo config's model, seeded, as ``tools/train.py`` saves one (``state_dict`` and
    ``meta``)."""
    cfg = Config.fromfile(DEMO)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    path = str(tmp_path_factory.mktemp('demo_ckpt') / 'demo.pth')
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(dataset_meta=dict(classes=('pristine', 'forged'),
                                                palette=[[0, 0, 0], [255, 0, 0]]))), path)
    return path
