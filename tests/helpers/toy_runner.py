"""A toy mmengine runner (a linear model on 8 numbers) for checkpoint and resume tests."""
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import Dataset

from .crash_hook import CrashAfterIter


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


class ToyDataset(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return dict(inputs=torch.tensor([float(i), 1.0]))


def make_runner(work_dir, max_iters, resume=False, crash_at=None):
    torch.manual_seed(0)  # the model is built before the runner seeds
    return Runner(
        custom_hooks=[CrashAfterIter(crash_at)] if crash_at else None,
        model=ToyModel(), work_dir=str(work_dir), resume=resume,
        train_dataloader=dict(dataset=ToyDataset(), batch_size=2, collate_fn=dict(
            type='pseudo_collate'), sampler=dict(type='DefaultSampler', shuffle=True)),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.01)),
        param_scheduler=dict(type='CosineAnnealingLR', T_max=8, by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)),
        randomness=dict(seed=0, deterministic=True))
