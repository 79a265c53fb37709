"""``skpref serve``: a saved text pipeline as a reward server (see skpref.serve)."""

from skpref._cli_args import COUNT, device, number, torch_threads

__all__ = ["add_serve_command", "serve"]


def add_serve_command(commands):
    """Add the ``serve`` command to the ``skpref`` sub-commands."""
    import inspect

    from skpref.serve import make_app

    defaults = inspect.signature(make_app).parameters
    max_bytes = defaults["max_request_bytes"].default
    max_items = defaults["max_request_items"].default
    parser = commands.add_parser(
        "serve",
        help="serve a saved text pipeline's rewards over HTTP (OpenRLHF's "
        "/get_reward, /reward, /health)",
    )
    add = parser.add_argument
    add("model", metavar="MODEL", help="a text pipeline saved with skpref.save")
    add(
        "--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)"
    )
    add("--port", type=number(int, 0, high=65535), default=8000, help="default 8000")
    add(
        "--device",
        type=device,
        help="torch device of the embedder and the reward model (default: as saved)",
    )
    add("--threads", type=COUNT, default=1, metavar="T", help="torch CPU threads")
    add(
        "--max-batch-size",
        type=COUNT,
        default=256,
        metavar="N",
        help="most completions gathered into one model call (default 256)",
    )
    add(
        "--max-wait-ms",
        type=number(float, 0),
        default=5.0,
        metavar="MS",
        help="how long a request waits for others to batch with (default 5)",
    )
    add(
        "--max-request-bytes",
        type=COUNT,
        default=max_bytes,
        metavar="N",
        help=f"largest request body (default {max_bytes}, 8 MiB)",
    )
    add(
        "--max-request-items",
        type=COUNT,
        default=max_items,
        metavar="N",
        help=f"most texts per request (default {max_items})",
    )
    add("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    parser.set_defaults(command_parser=parser)


def serve(args, out):
    """Run ``skpref serve`` until SIGTERM or Ctrl-C; return the exit status."""
    from skpref import load
    from skpref.serve import make_app

    parser = args.command_parser
    try:
        import uvicorn
    except ModuleNotFoundError:
        parser.error(
            "skpref serve needs uvicorn and Starlette: pip install 'skpref[serve]'"
        )
    try:
        pipeline = load(args.model, device=args.device)
        app = make_app(
            pipeline,
            max_batch_size=args.max_batch_size,
            max_wait_ms=args.max_wait_ms,
            max_request_bytes=args.max_request_bytes,
            max_request_items=args.max_request_items,
        )
    except (ValueError, FileNotFoundError, ModuleNotFoundError) as err:
        parser.error(str(err))
    print(f"skpref serve: {args.model} on http://{args.host}:{args.port}", file=out)
    with torch_threads(args.threads):
        # uvicorn stops on SIGTERM or SIGINT: it stops accepting connections,
        # lets the requests in flight finish, then stops the batching loop
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0
