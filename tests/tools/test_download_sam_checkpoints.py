"""tools/download_sam_checkpoints.py offline: a generated file served by an HTTP server on
127.0.0.1 (with range requests) and a hash table injected in place of SAM's."""
import glob
import hashlib
import http.server
import os
import re
import threading

import pytest

from tests.helpers.tool_runs import ROOT, tool_exit

import checkpoint_download as cd
from checkpoint_download import (
    SAM_CHECKPOINTS,
    CheckpointDownloadError,
    CheckpointFile,
    download_checkpoint,
    verify_checkpoint,
)

PAYLOAD = os.urandom(300_000)


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves its folder, honours ``Range: bytes=N-`` (206) and logs each request."""

    requests: list = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.requests.append((self.path, self.headers.get('Range')))
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            self.send_error(404)
            return
        data = open(path, 'rb').read()
        match = re.fullmatch(r'bytes=(\d+)-', self.headers.get('Range') or '')
        start = int(match.group(1)) if match else 0
        self.send_response(206 if match else 200)
        self.send_header('Content-Length', str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])


@pytest.fixture
def server(tmp_path):
    """``(base URL, request log)`` of a server on 127.0.0.1 holding ``sam_vit_t_<md5>.pth``."""
    served = tmp_path / 'served'
    served.mkdir()
    (served / _spec('x').name).write_bytes(PAYLOAD)
    log: list = []
    handler = type('Handler', (_RangeHandler,), dict(requests=log))
    httpd = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), lambda *a: handler(*a, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{httpd.server_address[1]}', log
    httpd.shutdown()
    httpd.server_close()


def _spec(base: str, *, sha256: str = None) -> CheckpointFile:
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    name = f'sam_vit_t_{md5[:6]}.pth'
    return CheckpointFile(name, f'{base}/{name}', len(PAYLOAD), md5,
                          sha256 or hashlib.sha256(PAYLOAD).hexdigest())


def test_a_verified_download_lands_at_the_final_path_and_is_not_fetched_again(server, tmp_path):
    base, log = server
    spec = _spec(base)
    folder = tmp_path / 'checkpoints'
    path = download_checkpoint(spec, str(folder), progress=False)
    assert path == str(folder / spec.name)
    assert open(path, 'rb').read() == PAYLOAD
    assert os.listdir(folder) == [spec.name]  # no .part left
    assert len(log) == 1
    assert download_checkpoint(spec, str(folder), progress=False) == path
    assert len(log) == 1  # verified in place: no second request
    assert verify_checkpoint(spec, str(folder)) == path


def test_a_wrong_hash_leaves_nothing_at_the_final_path(server, tmp_path):
    base, _ = server
    spec = _spec(base, sha256='0' * 64)
    folder = tmp_path / 'checkpoints'
    with pytest.raises(CheckpointDownloadError) as err:
        download_checkpoint(spec, str(folder), progress=False)
    message = str(err.value)
    assert '\n' not in message
    assert spec.name in message and 'SHA-256' in message and '0' * 64 in message
    assert f'download it by hand from {spec.url} and place it at {folder / spec.name}' \
        in message
    assert os.listdir(folder) == []  # neither the file nor its .part


def test_an_interrupted_download_continues_from_its_part_file(server, tmp_path):
    base, log = server
    spec = _spec(base)
    folder = tmp_path / 'checkpoints'
    folder.mkdir()
    (folder / f'{spec.name}.part').write_bytes(PAYLOAD[:123_456])
    path = download_checkpoint(spec, str(folder), progress=False)
    assert open(path, 'rb').read() == PAYLOAD
    assert log == [(f'/{spec.name}', 'bytes=123456-')]
    assert os.listdir(folder) == [spec.name]


def test_a_network_failure_keeps_the_part_and_says_what_to_do(tmp_path):
    import socket
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    spec = _spec(f'http://127.0.0.1:{port}')
    folder = tmp_path / 'checkpoints'
    with pytest.raises(CheckpointDownloadError,
                       match=rf'^{re.escape(spec.name)}: downloading .* failed') as err:
        download_checkpoint(spec, str(folder), progress=False, timeout=5)
    assert f'place it at {folder / spec.name}' in str(err.value)
    assert not (folder / spec.name).exists()


def test_a_file_in_place_that_differs_is_reported_and_kept(server, tmp_path):
    base, log = server
    spec = _spec(base)
    folder = tmp_path / 'checkpoints'
    folder.mkdir()
    (folder / spec.name).write_bytes(PAYLOAD[:-1] + b'x')
    with pytest.raises(CheckpointDownloadError, match='MD5|SHA-256') as err:
        download_checkpoint(spec, str(folder), progress=False)
    assert 'delete it and run' in str(err.value)
    assert (folder / spec.name).read_bytes() == PAYLOAD[:-1] + b'x'
    assert log == []


def test_the_tool_fetches_from_a_mirror_and_verifies_only(server, tmp_path, monkeypatch,
                                                          capsys):
    base, log = server
    spec = _spec('https://dl.example.invalid')  # published elsewhere, fetched from the mirror
    monkeypatch.setattr(cd, 'SAM_CHECKPOINTS', {'vit_t': spec})
    folder = tmp_path / 'checkpoints'
    tool = 'download_sam_checkpoints.py'
    assert tool_exit(tool, '--verify-only', '--dir', folder, '--quiet') == '1'
    assert f'{folder / spec.name} is missing' in capsys.readouterr().err
    assert tool_exit(tool, '--mirror', base, '--dir', folder, '--quiet') == ''
    assert f'vit_t: {folder / spec.name} verified' in capsys.readouterr().out
    assert tool_exit(tool, 'vit_t', '--verify-only', '--dir', folder, '--quiet') == ''
    assert len(log) == 1
    assert 'unknown arch vit_q' in tool_exit(tool, 'vit_q', '--dir', folder)


def test_the_table_holds_the_files_the_configs_name():
    named = set()
    for config in glob.glob(os.path.join(ROOT, 'configs', '**', '*.py'), recursive=True):
        named |= set(re.findall(r"'checkpoints/(sam_vit_\w+\.pth)'", open(config).read()))
    assert named and named <= {spec.name for spec in SAM_CHECKPOINTS.values()}
    for arch, spec in SAM_CHECKPOINTS.items():
        # the name carries its arch and the first six hex digits of the MD5
        assert spec.name == f'sam_{arch}_{spec.md5[:6]}.pth'
        assert spec.url == f'https://dl.fbaipublicfiles.com/segment_anything/{spec.name}'
        assert len(spec.md5) == 32 and len(spec.sha256) == 64


def test_a_failed_download_names_no_part_file_that_does_not_exist(tmp_path):
    """Was: "continue from <name>.part" after a failure that wrote nothing."""
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    spec = _spec(f'http://127.0.0.1:{port}')
    folder = tmp_path / 'checkpoints'
    with pytest.raises(CheckpointDownloadError) as err:
        download_checkpoint(spec, str(folder), progress=False, timeout=5)
    assert '.part' not in str(err.value) and 'nothing was written' in str(err.value)
    assert not (folder / f'{spec.name}.part').exists()


@pytest.mark.parametrize('announced', [True, False])
def test_a_mirror_file_larger_than_published_is_stopped_at_the_published_size(
        tmp_path, monkeypatch, announced):
    """Was: the whole file (600 MB for a SAM mirror) written before it was refused. The
    server sends 64 MiB more than the published size, with or without Content-Length."""
    extra = 64 << 20

    class Oversized(http.server.BaseHTTPRequestHandler):

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            if announced:
                self.send_header('Content-Length', str(len(PAYLOAD) + extra))
            self.end_headers()
            try:
                self.wfile.write(PAYLOAD)
                for _ in range(extra >> 20):
                    self.wfile.write(b'\0' * (1 << 20))
            except (BrokenPipeError, ConnectionResetError):
                pass

    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Oversized)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    spec = _spec(f'http://127.0.0.1:{httpd.server_address[1]}')
    folder = tmp_path / 'checkpoints'
    largest = []
    real_remove = os.remove

    def remove(path, *args, **kwargs):
        largest.append(os.path.getsize(path))
        real_remove(path, *args, **kwargs)

    monkeypatch.setattr(os, 'remove', remove)
    try:
        with pytest.raises(CheckpointDownloadError) as err:
            download_checkpoint(spec, str(folder), progress=False, timeout=10)
    finally:
        httpd.shutdown()
        httpd.server_close()
    message = str(err.value)
    assert f'more than the published {len(PAYLOAD)} bytes' in message and '\n' not in message
    assert os.listdir(folder) == []
    assert max(largest, default=0) <= len(PAYLOAD)  # never more than the published size


@pytest.mark.parametrize('args,words', [
    (['--mirror', 'mirror.example.org/sam'], ["--mirror 'mirror.example.org/sam' is not an "
                                              'address', 'https://mirror.example.org/sam']),
    (['--dir', 'FILE'], ['is a file, not a folder']),
    (['--dir', 'FILE/sub'], ['is a file, not a folder']),
    (['--timeout', '-1'], ['--timeout -1.0 must be a number of seconds above 0']),
    (['--timeout', 'nan'], ['--timeout nan must be'])])
def test_a_bad_option_is_one_line_before_anything_is_fetched(tmp_path, args, words):
    """Was: a ValueError traceback (--mirror, --timeout), FileExistsError (--dir) or
    "is missing" (--dir with --verify-only)."""
    a_file = tmp_path / 'a_file'
    a_file.write_text('x')
    args = [a.replace('FILE', str(a_file)) for a in args]
    if '--dir' not in args:
        args += ['--dir', str(tmp_path / 'checkpoints')]
    for extra in ([], ['--verify-only']):
        message = tool_exit('download_sam_checkpoints.py', 'vit_b', *args, *extra, '--quiet')
        assert message.startswith('download_sam_checkpoints.py: '), message
        assert all(w in message for w in words) and '\n' not in message, message
    assert not (tmp_path / 'checkpoints').exists() and a_file.read_text() == 'x'
