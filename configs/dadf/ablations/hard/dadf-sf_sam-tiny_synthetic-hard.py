# RGA ablation on the harder synthetic case: the scale-free RGA (S normalised per image;
# L_rec as the paper writes it).
_base_ = ['../../dadf_sam-tiny_synthetic-hard.py']
model = dict(neck=dict(s_norm='image'))
