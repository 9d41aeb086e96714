# As schedule_30e, 50 epochs (FMLD); its cosine ends at max_epochs.
_base_ = ['./schedule_30e.py']
max_epochs = 50
train_cfg = dict(max_epochs=max_epochs)
