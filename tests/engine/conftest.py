"""Checkpoints for the loading tests: a malicious pickle served over HTTP on 127.0.0.1, and
the demo config's model saved as tools/train.py saves one."""
import http.server
import os
import threading
from types import SimpleNamespace

import pytest
import torch

from tests.helpers.tool_runs import DEMO

#: the server stops by itself after this many seconds, whatever the test does
SERVE_SECONDS = 120


class Payload:
    """Unpickling it runs ``touch MARKER`` (what a malicious checkpoint would do)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def save_malicious(path, marker) -> bytes:
    """A checkpoint whose ``meta`` runs code when unpickled; its bytes."""
    torch.save({'state_dict': {'w': torch.zeros(2)}, 'meta': {'x': Payload(str(marker))}},
               str(path))
    return open(path, 'rb').read()


@pytest.fixture
def evil_server(tmp_path, monkeypatch):
    """An HTTP server on 127.0.0.1 serving ``evil.pth`` (a malicious pickle); the torch hub
    cache moved to ``tmp_path/hub``. ``url``, ``marker`` (created if the pickle runs),
    ``data`` (the file's bytes), ``hub`` (the cache folder), ``requests`` (paths asked)."""
    served = tmp_path / 'served'
    served.mkdir()
    marker = tmp_path / 'code_ran'
    data = save_malicious(served / 'evil.pth', marker)
    requests: list = []

    class Handler(http.server.SimpleHTTPRequestHandler):

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(served), **kwargs)

        def log_message(self, *args) -> None:
            requests.append(self.path)

    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    stop = threading.Timer(SERVE_SECONDS, httpd.shutdown)
    stop.daemon = True
    stop.start()
    hub = tmp_path / 'hub'
    monkeypatch.setattr(torch.hub, '_hub_dir', str(hub))
    monkeypatch.setenv('TORCH_HOME', str(hub))  # for tools run in a subprocess
    try:
        yield SimpleNamespace(url=f'http://127.0.0.1:{httpd.server_address[1]}/evil.pth',
                              marker=marker, data=data, hub=hub, requests=requests)
    finally:
        stop.cancel()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope='session')
def demo_state() -> dict:
    """The demo config's model state dict at a seeded initialisation (seconds)."""
    from mmengine.config import Config
    from mmseg.registry import MODELS

    import dadf_mm  # noqa: F401
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(DEMO).model)
    model.init_weights()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def training_checkpoint(path, state: dict, iteration: int = 2) -> str:
    """``state`` saved with the parts mmengine's resume reads (meta, message_hub,
    optimizer), as a training checkpoint holds them."""
    torch.save({'meta': {'iter': iteration, 'epoch': 0}, 'state_dict': state,
                'message_hub': {'log_scalars': {}, 'runtime_info': {}, 'resumed_keys': {}},
                'optimizer': {'state': {}, 'param_groups': []}}, str(path))
    return str(path)
