# Paper Table 4, "SAM + Multiscale Adapter": no RGA (and so no noisy view, no L_rec).
_base_ = ['../dadf_vit-h_ffpp-hq.py']
model = dict(neck=None)
