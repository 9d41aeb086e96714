"""A web page for analysts: drop an image or a video, see the overlay, the heat map and the
fake probability, and for a video the per-frame score curve and its highest-scoring frames.

    python tools/web_demo.py CONFIG CHECKPOINT [--port 7860] [--device cpu]
    python tools/web_demo.py configs/dadf/dadf_sam-tiny_synthetic-demo.py work_dirs/demo

CHECKPOINT is a ``.pth`` file or a training work dir (its newest ``best_*.pth``, else its
last checkpoint). The page listens on 127.0.0.1 (this machine only) unless ``--host`` says
otherwise; it has no login, so bind another address only on a network you trust.
"""
import argparse
import os
import os.path as osp
import sys

os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')


import dadf_mm  # noqa: F401
from dadf_mm.apis.web_demo import LOOPBACK_HOSTS, build_page, launch_page
from dadf_mm.engine import read_checkpoint, resolve_checkpoint

from tool_setup import ToolError, add_config_arguments, building, run_tool

TOOL = 'web_demo.py'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='DADF forgery analysis in a browser')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='a .pth file, or a training work dir')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (default 127.0.0.1: this machine only)')
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument('--device', default=None,
                        help="'cpu', 'cuda', 'cuda:1' ... (default: a GPU if there is one)")
    parser.add_argument('--threshold', type=float, default=0.5,
                        help='fake-probability threshold of the decision')
    parser.add_argument('--num-frames', type=int, default=16,
                        help='evenly spaced frames per video')
    parser.add_argument('--top-k', type=int, default=4,
                        help="how many of a video's highest-scoring frames to show")
    parser.add_argument('--detect-faces', action='store_true',
                        help='start with "crop the largest face of an image" ticked')
    add_config_arguments(parser, checkpoint=True)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    if not osp.isfile(args.config):
        sys.exit(f'{TOOL}: config file {args.config!r} not found')
    try:
        checkpoint = resolve_checkpoint(args.checkpoint)
    except FileNotFoundError as err:
        raise ToolError(str(err)) from err
    if args.num_frames < 1 or args.top_k < 1:
        raise ToolError('--num-frames and --top-k must be at least 1')
    read_checkpoint(checkpoint)  # empty, truncated or refused: one line, before any work
    from dadf_mm.apis.inference import ForgeryInferencer
    device = {} if args.device is None else dict(device=args.device)
    inferencer = building(f'building the model of {args.config}', lambda: ForgeryInferencer(
        args.config, checkpoint, threshold=args.threshold, cfg_options=args.cfg_options,
        allow_partial_checkpoint=args.allow_partial_checkpoint,
        allow_new_keys=args.allow_new_keys, **device))
    page = build_page(inferencer, threshold=args.threshold, num_frames=args.num_frames,
                      top_k=args.top_k, detect_faces=args.detect_faces)
    try:
        url = launch_page(page, host=args.host, port=args.port)
    except OSError as err:
        raise ToolError(f'cannot listen on {args.host}:{args.port} ({err}); pass another '
                        '--port') from err
    if args.host not in LOOPBACK_HOSTS:
        print(f'{TOOL}: listening on {args.host}: anyone who reaches this address can '
              'upload files to the page (it has no login)', file=sys.stderr)
    print(f'{TOOL}: model {args.config} with {checkpoint}; open {url} in a browser '
          '(Ctrl+C stops)', flush=True)
    try:
        page.block_thread()
    except KeyboardInterrupt:
        page.close()


if __name__ == '__main__':
    run_tool(main, TOOL)
