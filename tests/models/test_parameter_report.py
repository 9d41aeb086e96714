from mmseg.registry import MODELS

import dadf_mm  # noqa: F401
from dadf_mm.models import parameter_report
from tests.helpers.model_cases import tiny_dadf_cfg


def test_report_counts_what_trains(tiny_sam):
    model = MODELS.build(tiny_dadf_cfg())
    sam_params = sum(p.numel() for p in tiny_sam.parameters())
    report = parameter_report(model, sam_params)
    # independent count: adapters, task head, enhancer, cls branch, and the mask decoder
    # without the IoU head and the three multimask hypernetworks
    decoder = model.decode_head.mask_decoder
    expected = sum(
        sum(p.numel() for p in m.parameters())
        for m in (model.backbone.adapters, model.backbone.task_head, model.neck.enhancer,
                  model.decode_head.cls_branch, decoder.transformer, decoder.iou_token,
                  decoder.mask_tokens, decoder.output_upscaling,
                  decoder.output_hypernetworks_mlps[0]))
    assert report['trainable'] == expected
    assert report['total'] == sum(p.numel() for p in model.parameters())
    assert abs(report['trainable_share_of_sam'] - 100 * expected / sam_params) < 1e-9
    assert report['parts']['backbone.blocks']['trainable'] == 0
    assert report['parts']['backbone.adapters']['trainable'] == sum(
        p.numel() for p in model.backbone.adapters.parameters())
