# Self-blended forgeries of images scikit-image ships: no download. Train, val and test are
# built from disjoint source images (dadf_mm/datasets/synthetic_forgery_dataset.py); the
# images are generated once into ~/.cache/dadf_mm/synthetic.
dataset_type = 'SyntheticForgeryDataset'
img_size = 128
crop_size = (img_size, img_size)
train_pipeline = [
    dict(type='LoadForgeryImage'),
    dict(type='LoadForgeryAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackForgeryInputs'),
]
# any image size in, the model's input size out; the ground truth stays at the image's own
# size (LoadForgeryAnnotations after Resize), where mmseg compares the predicted mask
test_pipeline = [
    dict(type='LoadForgeryImage'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadForgeryAnnotations'),
    dict(type='PackForgeryInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type=dataset_type, split='train', num_samples=800, img_size=img_size,
                 seed=0, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, split='val', num_samples=120, img_size=img_size, seed=1,
                 pipeline=test_pipeline))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'], split='test', num_samples=200, seed=2))
val_evaluator = dict(type='ForgeryMetric')
test_evaluator = dict(type='ForgeryMetric')
