# FaceForensics++ face crops written by tools/dataset_converters/ffpp.py:
#   python tools/dataset_converters/ffpp.py /path/to/FaceForensics++ data/ffpp --compression c23
dataset_type = 'FFPPDataset'
data_root = 'data/ffpp'
compression = 'c23'
methods = ('Deepfakes', 'Face2Face', 'FaceSwap', 'NeuralTextures')
crop_size = (1024, 1024)
train_pipeline = [
    dict(type='LoadForgeryImage'),
    dict(type='LoadForgeryAnnotations'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackForgeryInputs'),
]
test_pipeline = [
    dict(type='LoadForgeryImage'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadForgeryAnnotations'),
    dict(type='PackForgeryInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, data_root=data_root, compression=compression,
                 methods=methods, split='train', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, data_root=data_root, compression=compression,
                 methods=methods, split='val', pipeline=test_pipeline))
test_dataloader = dict(val_dataloader, dataset=dict(val_dataloader['dataset'], split='test'))
val_evaluator = dict(type='ForgeryMetric')
test_evaluator = dict(type='ForgeryMetric', per_method=True)
