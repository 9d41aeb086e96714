# DADF with the scale-free RGA (docs/rga.md): S normalised per image, so the
# attention does not depend on sigma and can steer (the paper's formulation gives
# alpha = 1 to O(sigma)); otherwise dadf_vit-h_ffpp-hq.py. L_rec stays as the paper writes
# it: in units of sigma it collapsed the encoder in the ablation.
_base_ = ['./dadf_vit-h_ffpp-hq.py']
model = dict(neck=dict(s_norm='image'))
