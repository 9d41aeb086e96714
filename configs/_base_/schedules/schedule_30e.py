# AdamW 2e-4 (weight decay 0.01), cosine to 1e-7 per iteration, 30 epochs (FF++).
# The paper's "lr 0.05" diverges with AdamW; the authors' code uses 2e-4.
max_epochs = 30
# No weight decay where zero is not the prior: norms, biases (flat parameters), the
# identity-initialised adapter skips and task head, and SAM's pretrained mask decoder (its
# tokens included) and no-mask embedding. Over 30 FF++ epochs the accumulated
# lr x weight decay is of order 1 (AdamW shrinks an undriven weight by about
# exp(-wd x sum of lr), 0.4x here) and would pull the identity, and SAM's decoder, toward
# zero. Decay stays on the new, randomly initialised weights (adapters' projections, RGA,
# the classification branch), whose prior is zero. docs/method.md, "Training".
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-4, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0,
        custom_keys={'.skip.': dict(decay_mult=0.0), 'task_head.': dict(decay_mult=0.0),
                     'decode_head.mask_decoder.': dict(decay_mult=0.0),
                     'decode_head.no_mask_embed.': dict(decay_mult=0.0)}),
    clip_grad=None)
param_scheduler = [
    # no end: the runner ends it at train_cfg.max_epochs, so a shortened run decays fully
    dict(type='CosineAnnealingLR', eta_min=1e-7, begin=0, by_epoch=True,
         convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=True, interval=1, max_keep_ckpts=2,
                    save_best='PBCA', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook', draw=True, interval=500))
