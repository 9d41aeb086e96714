# As schedule_30e, 50 epochs (FMLD).
_base_ = ['./schedule_30e.py']
max_epochs = 50
param_scheduler = [
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-7, begin=0, end=max_epochs,
         by_epoch=True, convert_to_iter_based=True),
]
train_cfg = dict(max_epochs=max_epochs)
