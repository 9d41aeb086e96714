# DADF, SAM ViT-H, 1024 px, FF++ LQ (c40), all four methods: paper Table 2 (average) and
# the training run of the cross-dataset tests (Table 3).
_base_ = ['./dadf_vit-h_ffpp-hq.py']
train_dataloader = dict(dataset=dict(compression='c40'))
val_dataloader = dict(dataset=dict(compression='c40'))
test_dataloader = dict(dataset=dict(compression='c40'))
