# As dadf_vit-h_fmld.py at 512 px with per-block checkpointing (24 GB GPUs).
_base_ = ['./dadf_vit-h_fmld.py']
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(img_size=512, grad_checkpointing=True))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadForgeryAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackForgeryInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadForgeryAnnotations'),
    dict(type='PackForgeryInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
