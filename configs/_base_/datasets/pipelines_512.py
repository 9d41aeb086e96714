# Pipelines at 512 px, for the _512_ configs (SAM's position embeddings are resized on load).
crop_size_512 = (512, 512)
train_pipeline_512 = [
    dict(type='LoadForgeryImage'),
    dict(type='LoadForgeryAnnotations'),
    dict(type='Resize', scale=crop_size_512, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackForgeryInputs'),
]
test_pipeline_512 = [
    dict(type='LoadForgeryImage'),
    dict(type='Resize', scale=crop_size_512, keep_ratio=False),
    dict(type='LoadForgeryAnnotations'),
    dict(type='PackForgeryInputs'),
]
model_512 = dict(data_preprocessor=dict(size=crop_size_512),
                 backbone=dict(img_size=512, grad_checkpointing=True))
