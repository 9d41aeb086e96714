# As dadf_vit-h_fmld.py at 512 px with per-block checkpointing (24 GB GPUs).
_base_ = ['./dadf_vit-h_fmld.py', '../_base_/datasets/pipelines_512.py']
model = {{_base_.model_512}}
train_dataloader = dict(dataset=dict(pipeline={{_base_.train_pipeline_512}}))
val_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline_512}}))
test_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline_512}}))
# what mmseg.apis.inference_model reads: the test pipeline at the model's input size
test_pipeline = {{_base_.test_pipeline_512}}
