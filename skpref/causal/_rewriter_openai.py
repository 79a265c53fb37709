"""A rewriter that calls any OpenAI-compatible chat-completions server.

HTTP goes through ``httpx`` (the optional extra ``skpref[rewrite]``), not the
``openai`` package: one small, maintained client with per-request timeouts and
a connection pool whose size is the concurrency limit, while the retries, their
backoff and what is kept when a server fails stay here, where the tests can see
them (the ``openai`` client retries on its own, out of this rewriter's sight).
"""

import os
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from skpref.causal._rewrite_cache import BaseRewriter
from skpref.causal._rewriter_hf import check_instruction, rewrite_message

__all__ = ["OpenAIRewriter"]

_OWNER = "OpenAIRewriter"
_FLUSH_EVERY = 32  # rewrites per cache transaction


def _httpx():
    try:
        import httpx
    except ImportError as exc:
        raise ImportError(
            f"{_OWNER} needs the httpx package: pip install 'skpref[rewrite]'."
        ) from exc
    return httpx


class _ServerError(RuntimeError):
    """A request that failed for good (after its retries, or not retryable)."""


def _excerpt(text, size=200):
    text = " ".join(str(text).split())
    return text if len(text) <= size else text[: size - 3] + "..."


class OpenAIRewriter(BaseRewriter):
    """Rewrite responses with an OpenAI-compatible chat-completions server.

    Works with vLLM, llama.cpp's server, hosted APIs: one ``POST
    {base_url}/chat/completions`` per response, at most ``max_concurrency`` at
    a time. A request that times out, cannot connect, or gets HTTP 429 or 5xx
    is retried up to ``max_retries`` times, waiting ``backoff * 2**attempt``
    seconds (or the server's ``Retry-After``). When a request fails for good,
    the rewrites already made are stored in the cache (with ``cache_dir``) and
    an error says how many remain: call again to resume.

    Parameters
    ----------
    model : str
        The model name the server expects.
    instruction : dict of {0, 1} to str, or pair of str
        What to ask for each target value (see :class:`HFRewriter`).
    base_url : str or None, default=None
        The API root, e.g. ``"http://localhost:8000/v1"``; None is OpenAI's.
    api_key_env : str or None, default="OPENAI_API_KEY"
        Environment variable holding the API key (sent as a bearer token);
        None sends none, for local servers.
    max_concurrency : int, default=8
        Requests in flight at once.
    timeout : float, default=60.0
        Seconds allowed to each request.
    max_retries : int, default=5
        Retries of a request after a timeout, a connection error, 429 or 5xx.
    backoff : float, default=1.0
        Seconds before the first retry; doubled at each retry.
    max_tokens : int, default=512
        Longest rewrite, in tokens.
    temperature : float, default=0.0
        Sampling temperature (0: as deterministic as the server allows).
    cache_dir : str, path-like or None, default=None
        Folder of the cache of rewrites; strongly advised (rewrites cost money
        and time, and a failed run resumes from it).
    progress : bool, default=True
        Show a tqdm progress bar over requests.

    Examples
    --------
    >>> from skpref.causal import OpenAIRewriter
    >>> rewriter = OpenAIRewriter(
    ...     "Qwen/Qwen2.5-7B-Instruct",
    ...     instruction=("Rewrite it without a list.", "Rewrite it as a list."),
    ...     base_url="http://localhost:8000/v1", api_key_env=None)
    >>> rewriter.endpoint
    'http://localhost:8000/v1/chat/completions'
    """

    def __init__(
        self,
        model,
        *,
        instruction,
        base_url=None,
        api_key_env="OPENAI_API_KEY",
        max_concurrency=8,
        timeout=60.0,
        max_retries=5,
        backoff=1.0,
        max_tokens=512,
        temperature=0.0,
        cache_dir=None,
        progress=True,
    ):
        self.model = model
        self.instruction = instruction
        self.base_url = base_url
        self.api_key_env = api_key_env
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.cache_dir = cache_dir
        self.progress = progress

    @property
    def endpoint(self):
        """The chat-completions URL requests go to."""
        root = self.base_url or "https://api.openai.com/v1"
        return root.rstrip("/") + "/chat/completions"

    def _identity(self):
        return {
            "rewriter": "OpenAIRewriter",
            "model": self.model,
            "endpoint": self.endpoint,
            "max_tokens": int(self.max_tokens),
            "temperature": float(self.temperature),
        }

    def _instruction(self, target):
        return check_instruction(self.instruction, owner=_OWNER)[target]

    def _headers(self):
        if self.api_key_env is None:
            return {}
        key = os.environ.get(self.api_key_env)
        if not key:
            raise ValueError(
                f"{_OWNER}: the environment variable {self.api_key_env} that should "
                "hold the API key is not set; set it, or pass api_key_env=None for "
                "a server that needs no key."
            )
        return {"Authorization": f"Bearer {key}"}

    def _request(self, client, headers, message, stop):
        httpx = _httpx()

        payload = {
            "model": self.model,
            "messages": [{"role": "user", "content": message}],
            "max_tokens": int(self.max_tokens),
            "temperature": float(self.temperature),
        }
        for attempt in range(int(self.max_retries) + 1):
            wait_s = float(self.backoff) * 2**attempt
            try:
                response = client.post(self.endpoint, json=payload, headers=headers)
            except httpx.HTTPError as exc:  # timeouts, refused or dropped connections
                problem = f"{type(exc).__name__}: {exc}"
            else:
                status = response.status_code
                if status < 400:
                    return self._content(response)
                problem = f"HTTP {status}: {_excerpt(response.text)}"
                if status != 429 and status < 500:
                    raise _ServerError(f"{problem} (not retried)")
                retry_after = response.headers.get("Retry-After", "")
                if retry_after.replace(".", "", 1).isdigit():
                    wait_s = min(float(retry_after), 60.0)
            # once another request has failed for good, retry no more
            if attempt < int(self.max_retries) and not stop.wait(wait_s):
                continue
            if stop.is_set():
                raise _ServerError(
                    f"{problem} (retries stopped: another request failed)"
                )
        raise _ServerError(f"{problem} (after {int(self.max_retries)} retries)")

    def _content(self, response):
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            content = None
        if not isinstance(content, str):
            raise ValueError(
                f"{_OWNER}: the server at {self.endpoint} answered HTTP "
                f"{response.status_code} with a body that is not a chat completion "
                "(JSON with choices[0].message.content a string): "
                f"{_excerpt(response.text)!r}. Check base_url and that the server "
                "speaks the OpenAI chat-completions API."
            )
        return content.strip()

    def _rewrite(self, prompts, responses, targets, done):
        from tqdm.auto import tqdm

        httpx = _httpx()

        messages = [
            rewrite_message(self._instruction(t), p, r)
            for p, r, t in zip(prompts, responses, targets, strict=True)
        ]
        headers = self._headers()
        workers = max(int(self.max_concurrency), 1)
        limits = httpx.Limits(max_connections=workers)
        pending_rows, pending_texts, n_done = [], [], 0
        stop = threading.Event()
        bar = tqdm(total=len(messages), desc=_OWNER, disable=not self.progress)

        def flush():
            nonlocal pending_rows, pending_texts
            done(pending_rows, pending_texts)
            pending_rows, pending_texts = [], []

        with (
            httpx.Client(timeout=float(self.timeout), limits=limits) as client,
            ThreadPoolExecutor(max_workers=workers) as pool,
        ):
            futures = {
                pool.submit(self._request, client, headers, m, stop): row
                for row, m in enumerate(messages)
            }
            remaining, failure = set(futures), None
            while remaining and failure is None:
                finished, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                for future in finished:
                    if future.exception() is not None:
                        failure = failure or future.exception()
                        continue
                    pending_rows.append(futures[future])
                    pending_texts.append(future.result())
                    n_done += 1
                    bar.update()
                    if len(pending_texts) >= _FLUSH_EVERY:
                        flush()
            if failure is not None:
                stop.set()
                for future in remaining:
                    future.cancel()
                # requests already in flight finish; keep what they rewrote
                for future in wait(remaining).done:
                    if not future.cancelled() and future.exception() is None:
                        pending_rows.append(futures[future])
                        pending_texts.append(future.result())
                        n_done += 1
        bar.close()
        flush()
        if failure is None:
            return
        left = len(messages) - n_done
        kept = (
            f"the {n_done} rewrites made are in the cache at {self.cache_dir}; call "
            f"again to rewrite the {left} left"
            if self.cache_dir is not None
            else f"{n_done} rewrites were made but, without a cache_dir, are lost; "
            "pass cache_dir= to keep them across a failure"
        )
        if isinstance(failure, _ServerError):
            raise RuntimeError(
                f"{_OWNER}: a request to {self.endpoint} failed: {failure}. {left} "
                f"of {len(messages)} responses are not rewritten; {kept}."
            ) from failure
        if isinstance(failure, ValueError):
            raise ValueError(
                f"{failure} {left} of {len(messages)} responses are not rewritten; "
                f"{kept}."
            ) from failure
        raise failure
