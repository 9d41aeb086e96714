# FMLD (Kong et al.): annotations/fmld_{train,val,test}.jsonl under data_root, one record
# per image (img_path, mask_path, label, method, video_id); see dadf_mm/datasets.
_base_ = ['./ffpp.py']
dataset_type = 'FMLDDataset'
data_root = 'data/fmld'
train_dataloader = dict(dataset=dict(
    _delete_=True, type=dataset_type, data_root=data_root, split='train',
    pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(dataset=dict(
    _delete_=True, type=dataset_type, data_root=data_root, split='val',
    pipeline={{_base_.test_pipeline}}))
test_dataloader = dict(dataset=dict(
    _delete_=True, type=dataset_type, data_root=data_root, split='test',
    pipeline={{_base_.test_pipeline}}))
