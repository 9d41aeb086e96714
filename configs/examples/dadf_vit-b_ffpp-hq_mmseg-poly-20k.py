# Composing DADF with a stock mmseg schedule: this project's model, data and runtime parts
# plus mmseg's 20k-iteration poly schedule. A whole configs/dadf/*.py already holds a
# schedule, and mmengine refuses a key that two bases define ("Duplicate key is not allowed
# among bases"), so take the parts, not a whole config, next to the mmseg base.
#   python tools/train.py configs/examples/dadf_vit-b_ffpp-hq_mmseg-poly-20k.py
_base_ = [
    'mmseg::_base_/schedules/schedule_20k.py',
    '../_base_/models/dadf_sam-vit-h.py', '../_base_/datasets/ffpp.py',
    '../_base_/dadf_runtime.py'
]
model = dict(sam_checkpoint='checkpoints/sam_vit_b_01ec64.pth', backbone=dict(arch='vit_b'))
# from mmseg: the 20k-iteration loop, validation every 2k, the hooks. The schedule's SGD at
# lr 0.01 and its poly floor of 1e-4 are for CNN decoders: keep DADF's AdamW (_delete_ drops
# the SGD keys instead of merging into them) and let the poly decay run to 1e-7.
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0,
        custom_keys={'.skip.': dict(decay_mult=0.0), 'task_head.': dict(decay_mult=0.0),
                     'decode_head.mask_decoder.': dict(decay_mult=0.0),
                     'decode_head.no_mask_embed.': dict(decay_mult=0.0)}))
# no end: the runner ends the decay at train_cfg.max_iters (20k, or what --cfg-options sets)
param_scheduler = [dict(type='PolyLR', eta_min=1e-7, power=0.9, begin=0, by_epoch=False)]
log_processor = dict(by_epoch=False)  # the schedule counts iterations, the runtime epochs
train_dataloader = dict(sampler=dict(type='InfiniteSampler', shuffle=True))
default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', save_best='PBCA',
                                     rule='greater'))
