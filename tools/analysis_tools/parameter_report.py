"""Print DADF's parameter counts per SAM arch: total, trainable, share of SAM's parameters.

    python tools/analysis_tools/parameter_report.py                 # vit_b, vit_l, vit_h
    python tools/analysis_tools/parameter_report.py CONFIG [--cfg-options ...]

Models are built on the meta device, so no memory is spent and no checkpoint is needed.
The paper reports 18.64 % of SAM's parameters trainable.
"""
import argparse

import torch
from mmengine.config import Config, DictAction
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

import dadf_mm  # noqa: F401
from dadf_mm.models import parameter_report
from dadf_mm.models.utils.sam_checkpoint import SAM_ARCHS


def sam_parameter_count(arch: str) -> int:
    from segment_anything import sam_model_registry
    with torch.device('meta'):
        return sum(p.numel() for p in sam_model_registry[arch]().parameters())


def default_model(arch: str) -> dict:
    return dict(type='DADF', backbone=dict(type='SAMViT', arch=arch, img_size=1024),
                neck=dict(type='RGANeck'), decode_head=dict(type='SAMMaskDecoderHead'),
                data_preprocessor=dict(type='SegDataPreProcessor'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='?', help='a DADF config (default: the three archs)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={})
    parser.add_argument('--parts', action='store_true', help='print the per-module breakdown')
    args = parser.parse_args()
    register_all_modules(init_default_scope=True)
    if args.config:
        cfg = Config.fromfile(args.config)
        cfg.merge_from_dict(args.cfg_options)
        arch = cfg.model.backbone.get('arch', 'vit_h')
        models = [(arch if isinstance(arch, str) else 'custom', cfg.model)]
    else:
        models = [(arch, default_model(arch)) for arch in SAM_ARCHS]
    print(f"{'arch':<8}{'total':>14}{'trainable':>14}{'SAM':>14}{'trainable/SAM':>15}")
    for arch, model_cfg in models:
        with torch.device('meta'):
            model = MODELS.build(model_cfg)
        sam = sam_parameter_count(arch) if arch in SAM_ARCHS else sum(
            p.numel() for n, p in model.named_parameters()
            if n.startswith(('backbone.patch_embed', 'backbone.pos_embed', 'backbone.blocks',
                             'backbone.neck', 'decode_head.mask_decoder')))
        rep = parameter_report(model, sam)
        print(f"{arch:<8}{rep['total']:>14,}{rep['trainable']:>14,}{rep['sam_params']:>14,}"
              f"{rep['trainable_share_of_sam']:>14.2f}%")
        if args.parts:
            for name, part in rep['parts'].items():
                print(f"    {name:<34}{part['total']:>14,}{part['trainable']:>14,}")
    print('paper (ViT-H): 18.64% of SAM trainable')


if __name__ == '__main__':
    main()
