"""RGADiagnosticsHook: RGA's statistics averaged over a test run, in the message hub."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub, MMLogger
from mmseg.registry import MODELS

from dadf_mm.engine import RGADiagnosticsHook
from tests.helpers.model_cases import batch, tiny_dadf_cfg


def test_means_over_the_batches_reach_the_message_hub(tiny_sam_checkpoint):
    torch.manual_seed(0)
    model = MODELS.build(tiny_dadf_cfg(tiny_sam_checkpoint,
                                       neck=dict(type='RGANeck', s_norm='image')))
    model.init_weights()
    with torch.no_grad():
        model.neck.enhancer.weight.normal_(std=0.05)
    model.eval()
    hub = MessageHub.get_instance('rga_hook_test')
    runner = SimpleNamespace(model=model, message_hub=hub,
                             logger=MMLogger.get_instance('rga_hook_test'))
    hook = RGADiagnosticsHook()
    hook.before_test_epoch(runner)
    expected = []
    for seed in (0, 1):
        inputs, samples = batch()
        inputs = inputs + seed  # two different batches
        with torch.no_grad():
            model.predict(inputs, samples)
            feat, diff = model.encode(inputs, [s.metainfo for s in samples])
        expected.append(model.neck.diagnostics(feat, diff=diff))
    hook.after_test_epoch(runner)
    for key in expected[0]:
        mean = (float(expected[0][key]) + float(expected[1][key])) / 2
        assert hub.get_scalar(f'test/{key}').current() == pytest.approx(mean, rel=1e-5)
    # the forward hook is gone: another forward adds nothing
    before = hub.get_scalar('test/rga_alpha_std').current()
    with torch.no_grad():
        model.predict(*batch())
    assert hub.get_scalar('test/rga_alpha_std').current() == before
