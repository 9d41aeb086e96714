# The built-in demo: a small SAM-architecture DADF trained and evaluated on self-blended
# forgeries of scikit-image's sample faces, on a CPU, in minutes, with nothing downloaded.
#   python tools/train.py configs/dadf/dadf_sam-tiny_synthetic-demo.py
#   python tools/test.py configs/dadf/dadf_sam-tiny_synthetic-demo.py \
#       work_dirs/dadf_sam-tiny_synthetic-demo/best_AUC_iter_N.pth
# No pretrained SAM exists at this size, so the encoder starts from random weights and
# trains with the adapters (frozen=False); everything else is DADF as in the paper configs.
# The forgeries go anywhere on the face (a mouth, an eye, the nose, one side, blobs, several
# regions, the whole face), so a mask must be read from the image: tools/test.py prints the
# model's localisation beside a constant disc fitted on the training masks.
_base_ = [
    '../_base_/models/dadf_sam-vit-h.py', '../_base_/datasets/synthetic_forgery.py',
    '../_base_/dadf_runtime.py'
]
crop_size = (128, 128)
data_preprocessor = dict(size=crop_size)
model = dict(
    sam_checkpoint=None,
    data_preprocessor=data_preprocessor,
    backbone=dict(
        arch=dict(_delete_=True, embed_dim=96, depth=4, num_heads=4, global_attn_indexes=(1, 3)),
        img_size=crop_size[0],
        window_size=4,
        adapter=dict(variant='A', inner_channels=32),
        attn_impl='sdpa',  # memory is no concern at 128 px: no recomputation
        grad_checkpointing=False,
        frozen=False),
    # L_seg = pixel BCE + Dice: the Dice term weighs each forged image alike, so a forged eye
    # or mouth (1-5 % of the image) is not outweighed by the pristine pixels around it; with
    # BCE alone the masks of these small forgeries stay empty in this schedule
    decode_head=dict(cls_hidden=64, loss_decode=[
        dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0, avg_non_ignore=True,
             loss_name='loss_seg'),
        dict(type='BinaryDiceLoss', loss_weight=1.0)]),
    # a face judged real gets an empty mask, so decision and mask agree
    test_cfg=dict(mode='whole', mask_from_fake_only=True, score_threshold=0.5))

# The forgeries are stronger than the paper data's (colour offsets of 30-60 grey levels):
# a model trained from random weights on a CPU learns them in minutes.
offset_range = (30.0, 60.0)
train_dataloader = dict(dataset=dict(offset_range=offset_range, num_samples=1600))
val_dataloader = dict(dataset=dict(offset_range=offset_range, num_samples=200))
test_dataloader = dict(dataset=dict(offset_range=offset_range))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.01))
# a linear warm-up from 0.1x over the first 1/30 of the run (50 of 1500 iterations), then
# a cosine to 1e-6 at train_cfg.max_iters: a run shortened with --cfg-options
# train_cfg.max_iters=N keeps the whole schedule (no warm-up where it would last under 2
# iterations; dadf_mm/engine/warmup_cosine_lr.py)
param_scheduler = [
    dict(type='WarmupCosineLR', warmup_ratio=1 / 30, warmup_start_factor=0.1, eta_min=1e-6,
         by_epoch=False),
]
# 1500 iterations (about 7 minutes on 2 cores): the masks of small forgeries go on improving
# to the end; at 1000 they beat the constant disc by less
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1500, val_interval=250)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=250, max_keep_ckpts=2,
                    save_best='AUC', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # every 12th batch of a validation (25 batches of 8): 16 pictures, real and fake, in
    # vis_data/ and TensorBoard, each with its score, decision, truth and RIGHT / WRONG
    visualization=dict(type='SegVisualizationHook', draw=True, interval=12))
log_processor = dict(by_epoch=False)
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))
