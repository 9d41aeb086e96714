# DADF, SAM ViT-H at 512 px (SAM's position embeddings resized on load), per-block
# activation checkpointing: fits a 24 GB GPU at batch 4.
_base_ = ['./dadf_vit-h_ffpp-hq.py', '../_base_/datasets/pipelines_512.py']
model = {{_base_.model_512}}
train_dataloader = dict(dataset=dict(pipeline={{_base_.train_pipeline_512}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline_512}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline_512}}))
# what mmseg.apis.inference_model reads: the test pipeline at the model's input size
test_pipeline = {{_base_.test_pipeline_512}}
