"""Rewards over HTTP: a reward server for a separate RL job, and its client.

``skpref serve MODEL`` serves a pipeline saved with :func:`skpref.save`;
:func:`make_app` builds the same ASGI application for your own server;
:class:`RemoteReward` is a TRL reward function that calls it. The server needs
the ``serve`` extra (``pip install "skpref[serve]"``: Starlette, uvicorn, httpx).
"""

from skpref.serve._app import make_app, split_query
from skpref.serve._client import RemoteReward

__all__ = ["RemoteReward", "make_app", "split_query"]
