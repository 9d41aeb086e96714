# As dadf_vit-h_ffpp-lq.py on SAM ViT-L.
_base_ = ['./dadf_vit-h_ffpp-lq.py']
model = dict(sam_checkpoint='checkpoints/sam_vit_l_0b3195.pth', backbone=dict(arch='vit_l'))
