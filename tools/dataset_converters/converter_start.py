"""Not a program: what the converters do before they import the library (seconds of torch
and OpenCV loading), so that Ctrl-C or SIGTERM then also ends in one line."""
import os
import os.path as osp
import signal
import sys


def _stopped_while_loading(signum: int, frame: object) -> None:
    sys.stderr.write(f'{osp.basename(sys.argv[0])}: stopped by {signal.Signals(signum).name} '
                     'while starting; nothing was converted\n')
    os._exit(128 + signum)


def stop_in_one_line_while_loading() -> None:
    """SIGINT and SIGTERM end the process with one line until the converter's own handlers
    (``run_converter``) take over."""
    for kind in (signal.SIGINT, signal.SIGTERM):
        signal.signal(kind, _stopped_while_loading)
