# DADF on SAM ViT-H (paper setting): frozen SAM encoder with a Multiscale Adapter before
# every block, RGA between the clean and the noisy view, SAM's mask decoder and a real/fake
# branch; loss = L_seg + 0.1 L_rec + 0.1 L_cls.
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],  # SAM's pixel statistics
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=(1024, 1024))
model = dict(
    type='DADF',
    sam_checkpoint='checkpoints/sam_vit_h_4b8939.pth',
    # the noisy view: sigma on the normalised input (paper: variance 1e-6), the base seed of
    # its per-image noise, how the encoder sees it ('batched': one batch of 2B images,
    # 'separate': two calls, 'jvp': forward mode) and where it is drawn ('cpu', 'device')
    noise=dict(std=1e-3, seed=0, mode='batched', generator='cpu'),
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='SAMViT',
        arch='vit_h',
        img_size=1024,
        adapter=dict(variant='A', inner_channels=256),
        task_head=True,
        # exact memory savers, on by default so that the paper setting (ViT-H, 1024 px,
        # batch 4, two views) fits one GPU: estimated 16.4 GiB instead of 135.7 GiB
        # (tools/analysis_tools/memory_estimate.py); both compute what SAM's attention
        # without recomputation computes (tests/models/test_fast_paths.py, test_sam_vit.py)
        attn_impl='sdpa_folded',  # SAM's rel-pos bias folded into fused attention
        grad_checkpointing=True),  # per-block recomputation in backward
    # eq. 8: loss = L_seg (loss_decode) + 0.1 L_rec (the neck's loss_rec) + 0.1 L_cls (the
    # head's loss_cls); L_rec is eq. 7 read as a per-element mean (docs/method.md)
    neck=dict(type='RGANeck', channels=256, attn_act='spatial_softmax',
              loss_rec=dict(type='ReconstructionLoss', samples='real', units='feature',
                            loss_weight=0.1, loss_name='loss_rec')),
    decode_head=dict(
        type='SAMMaskDecoderHead',
        with_cls=True,
        cls_in='gated_embedding',
        loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=0.1,
                      loss_name='loss_cls'),
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0,
                         avg_non_ignore=True, loss_name='loss_seg')),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
