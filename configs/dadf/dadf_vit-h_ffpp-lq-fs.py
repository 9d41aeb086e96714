# DADF, SAM ViT-H, FF++ LQ (c40), FaceSwap and its real videos only: paper Table 2.
_base_ = ['./dadf_vit-h_ffpp-lq.py']
methods = ('FaceSwap', )
train_dataloader = dict(dataset=dict(methods=methods))
val_dataloader = dict(dataset=dict(methods=methods))
test_dataloader = dict(dataset=dict(methods=methods))
