import pytest
import torch

from tests.helpers.sam_reference import (
    TINY_ARCH,
    TINY_SIZE,
    TINY_WINDOW,
    build_reference_sam,
    save_state_dict,
)


@pytest.fixture(scope='session')
def tiny_sam():
    return build_reference_sam(**TINY_ARCH, img_size=TINY_SIZE, window_size=TINY_WINDOW)


@pytest.fixture(scope='session')
def tiny_sam_checkpoint(tiny_sam, tmp_path_factory):
    return save_state_dict(tiny_sam, str(tmp_path_factory.mktemp('sam') / 'sam_tiny.pth'))


@pytest.fixture
def images():
    torch.manual_seed(1)
    return torch.randn(2, 3, TINY_SIZE, TINY_SIZE)
