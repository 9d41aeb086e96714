"""Serving the web page: the address checked before a model is built for it
(:func:`check_address`), and the page served without a share link or usage statistics
(:func:`launch_page`)."""
import errno
import socket

#: the addresses that reach only this machine
LOOPBACK_HOSTS = ('127.0.0.1', 'localhost', '::1')


def check_address(host: str, port: int) -> None:
    """Make sure the page can listen on ``host:port`` (before a model is built for it).

    Args:
        host (str): the address to bind.
        port (int): the port.

    Raises:
        OSError: the address does not resolve, or the port is taken (the message says
            which and what to pass instead).
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as err:
        raise OSError(f'--host {host!r} does not resolve to an address ({err}); pass '
                      '--host 127.0.0.1 or one of this machine\'s addresses') from err
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            sock.bind(address)
        except OSError as err:
            fix = {errno.EADDRNOTAVAIL: f'--host {host!r} is not an address of this machine: '
                                        'pass --host 127.0.0.1 or one of its addresses',
                   errno.EACCES: 'ports below 1024 need administrator rights: pass '
                                 '--port 1024 or above (e.g. 7860)'}.get(
                       err.errno, 'pass another --port (or stop what uses it)')
            raise OSError(f'cannot listen on {host}:{port} ({err.strerror or err}); '
                          f'{fix}') from err


def launch_page(page, *, host: str = '127.0.0.1', port: int = 7860) -> str:
    """Serve ``page`` on ``host:port`` in a background thread (no public share link, no
    usage statistics); ``page.block_thread()`` then serves until interrupted.

    Args:
        page (gradio.Blocks): from :func:`build_page`.
        host (str): the address to bind; the default reaches only this machine.
            Defaults to '127.0.0.1'.
        port (int): the port. Defaults to 7860.

    Returns:
        str: the page's local URL.
    """
    page.queue(default_concurrency_limit=1)
    _, url, _ = page.launch(server_name=host, server_port=port, share=False,
                            prevent_thread_lock=True, show_error=True, quiet=True,
                            max_file_size='1gb')
    return url
