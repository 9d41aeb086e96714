"""The float32 region (TF32 off around the encoder) gives the user's settings back in every
case: after a backward pass that fails (an out-of-memory error a caller catches), and with
torch's legacy flags readable inside (``torch.backends.cudnn.allow_tf32``,
``torch.backends.cudnn.flags()``, which inductor's convolution templates read and enter)."""
import pytest
import torch
from mmseg.registry import MODELS

import dadf_mm  # noqa: F401
from dadf_mm.models.utils import exact_float32, exact_float32_backward, float32_precisions
from tests.helpers.model_cases import batch, tiny_dadf_cfg

IEEE = 'ieee'


def legacy_flags() -> dict:
    """What code written for torch's legacy API reads."""
    return dict(cudnn=torch.backends.cudnn.allow_tf32,
                matmul=torch.backends.cuda.matmul.allow_tf32,
                matmul_precision=torch.get_float32_matmul_precision())


@pytest.fixture
def user_tf32():
    """TF32 switched on the way most training scripts do it (the legacy API), restored
    after the test; the settings as the user sees them."""
    before = (torch.backends.cudnn.allow_tf32, torch.get_float32_matmul_precision())
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cuda.matmul.allow_tf32 = True
    yield float32_precisions(), legacy_flags()
    torch.backends.cudnn.allow_tf32 = before[0]
    torch.set_float32_matmul_precision(before[1])


class OutOfMemory(RuntimeError):
    """Stands for CUDA's out-of-memory error, raised inside the encoder's backward."""


def raise_in_backward(grad):
    raise OutOfMemory('CUDA out of memory (simulated)')


def test_a_failed_backward_gives_the_settings_back(user_tf32):
    switches, legacy = user_tf32
    x = torch.randn(4, requires_grad=True)
    inner = x * 2  # stands for the encoder's layers
    inner.register_hook(raise_in_backward)  # runs after the output's node switched TF32 off
    with pytest.raises(OutOfMemory):
        exact_float32_backward(inner).sum().backward()
    assert float32_precisions() == switches
    assert legacy_flags() == legacy
    # and the next backward pass saves the settings anew and runs without TF32
    seen = []
    inner = x * 3
    inner.register_hook(lambda grad: seen.append(float32_precisions()))
    exact_float32_backward(inner).sum().backward()
    assert seen == [{key: IEEE for key in switches}]
    assert float32_precisions() == switches and legacy_flags() == legacy


def test_a_forward_pass_restores_what_a_failed_backward_left(user_tf32, monkeypatch):
    """Where the failed pass is released late (another thread still holds it), the next
    forward pass restores the user's settings before saving them as the user's."""
    from dadf_mm.models.utils import precision
    switches, legacy = user_tf32
    monkeypatch.setattr(precision._EndOfBackward, '__del__', lambda self: None)
    x = torch.randn(4, requires_grad=True)
    inner = x * 2
    inner.register_hook(raise_in_backward)
    with pytest.raises(OutOfMemory):
        exact_float32_backward(inner).sum().backward()
    assert float32_precisions() == {key: IEEE for key in switches}  # left behind
    with exact_float32():
        pass
    assert float32_precisions() == switches and legacy_flags() == legacy


def test_a_model_step_after_a_failed_backward_starts_from_the_users_settings(
        tiny_sam_checkpoint, user_tf32):
    """The failure inside the encoder's backward of a DADF step (a hook on the first
    adapter's output raises); the caller catches it and the settings are the user's; the
    next step runs its encoder's backward without TF32 and restores them again."""
    switches, legacy = user_tf32
    torch.manual_seed(0)
    model = MODELS.build(tiny_dadf_cfg(tiny_sam_checkpoint))
    model.init_weights()
    model.train()
    inputs, samples = batch()
    fail = [True]
    seen = []

    def forward_hook(module, args, output):
        def on_grad(grad):
            seen.append(float32_precisions())
            if fail[0]:
                raise OutOfMemory('CUDA out of memory (simulated)')
        output.register_hook(on_grad)

    model.backbone.adapters[0].register_forward_hook(forward_hook)
    loss = sum(v for k, v in model.loss(inputs, samples).items() if k.startswith('loss'))
    with pytest.raises(OutOfMemory):
        loss.backward()
    assert seen == [{key: IEEE for key in switches}]  # it failed inside the region
    assert float32_precisions() == switches and legacy_flags() == legacy
    fail[0] = False
    loss = sum(v for k, v in model.loss(inputs, samples).items() if k.startswith('loss'))
    loss.backward()
    assert seen[1:] == [{key: IEEE for key in switches}]
    assert float32_precisions() == switches and legacy_flags() == legacy


def read_legacy_api(record: list) -> None:
    """What inductor's convolution templates do: read the legacy flag and enter
    ``cudnn.flags()`` with it; then the switches the region holds."""
    allow = torch.backends.cudnn.allow_tf32
    with torch.backends.cudnn.flags(enabled=True, allow_tf32=allow):
        pass
    with torch.backends.mkldnn.flags():
        pass
    record.append((allow, torch.backends.cuda.matmul.allow_tf32, float32_precisions()))


def test_the_legacy_api_works_inside_the_region(user_tf32):
    switches, legacy = user_tf32
    ieee = {key: IEEE for key in switches}
    seen = []
    x = torch.randn(4, requires_grad=True)
    with exact_float32():
        read_legacy_api(seen)  # forward
        inner = x * 2
    inner.register_hook(lambda grad: read_legacy_api(seen))  # backward
    exact_float32_backward(inner).sum().backward()
    # TF32 reads as off, and stays off after cudnn.flags() gave its settings back
    assert seen == [(False, False, ieee), (False, False, ieee)]
    assert float32_precisions() == switches and legacy_flags() == legacy


# a probe that torch.compile cannot look into: it reads the switches when the compiled
# code runs (its backward, when the compiled backward reaches it)
SEEN = []


@torch.library.custom_op('dadf_test::read_switches', mutates_args=())
def read_switches(x: torch.Tensor) -> torch.Tensor:
    SEEN.append(('forward', float32_precisions()))
    return x.clone()


@torch.library.custom_op('dadf_test::read_switches_backward', mutates_args=())
def read_switches_backward(grad: torch.Tensor) -> torch.Tensor:
    SEEN.append(('backward', float32_precisions()))
    return grad.clone()


read_switches.register_fake(torch.empty_like)
read_switches_backward.register_fake(torch.empty_like)
read_switches.register_autograd(lambda ctx, grad: read_switches_backward(grad))


class Encoder(torch.nn.Module):
    """The encoder's use of the region, as ``SAMViT.forward`` does it."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        with exact_float32():
            x = read_switches(self.layer(x))
        return exact_float32_backward(x)


class Segmentor(torch.nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.encoder, self.head = Encoder(), torch.nn.Linear(4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x)).square().mean()


def test_a_compiled_model_runs_the_encoders_backward_without_tf32(user_tf32):
    """The whole model through torch.compile (dynamo and AOT autograd; ``aot_eager``
    generates no code, so this takes seconds on a CPU) as a compiled ``train_step``
    traces it: the encoder's forward and backward read IEEE at run time."""
    switches, legacy = user_tf32
    torch._dynamo.reset()
    step = torch.compile(Segmentor(), backend='aot_eager')
    ieee = {key: IEEE for key in switches}
    for _ in range(2):  # the compiling call and a call of the compiled code
        SEEN.clear()
        step(torch.randn(3, 4)).backward()
        assert SEEN == [('forward', ieee), ('backward', ieee)]
        assert float32_precisions() == switches and legacy_flags() == legacy
