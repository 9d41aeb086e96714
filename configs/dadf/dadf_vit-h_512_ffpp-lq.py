# As dadf_vit-h_512_ffpp-hq.py on FF++ LQ (c40).
_base_ = ['./dadf_vit-h_512_ffpp-hq.py']
train_dataloader = dict(dataset=dict(compression='c40'))
val_dataloader = dict(dataset=dict(compression='c40'))
test_dataloader = dict(dataset=dict(compression='c40'))
