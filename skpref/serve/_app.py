"""The reward server: a fitted text pipeline behind HTTP, for an RL job elsewhere.

Starlette, not FastAPI: the server has three routes and validates their bodies
itself, so that each mistake is answered with skpref's own message; FastAPI's
pydantic models and OpenAPI pages would be weight without use (FastAPI is
Starlette underneath). uvicorn runs it.

Requests that arrive within ``max_wait_ms`` of each other are gathered into one
model call (micro-batching), which runs in one worker thread so the event loop
keeps accepting requests meanwhile; while the model runs, the next requests
queue up and form the next batch.
"""

import asyncio
import json
import re
import string
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from numbers import Integral, Real

import numpy as np

from skpref._reward_function import reward_function, warn_unfitted_form
from skpref._version import __version__
from skpref.utils import (
    Interval,
    check_text_list,
    check_texts,
    encode_objectives,
    validate_params,
)

__all__ = ["make_app", "split_query"]

OWNER = "skpref serve"
DEFAULT_MAX_BYTES = 8 * 2**20
DEFAULT_MAX_ITEMS = 4096


class RequestError(ValueError):
    """A request the server refuses: an HTTP status and a message for the client."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _query_pattern(embedder):
    """Return a regex splitting rendered texts, or why they cannot be split.

    Resolving the embedder's ``chat_template="auto"`` may read its model's
    configuration and tokenizer, so the server does it once.
    """
    from skpref.embeddings import uses_chat_template

    if uses_chat_template(embedder):
        how = (
            'chat_template="auto" and a decoder whose tokenizer has one'
            if isinstance(embedder.chat_template, str)
            else "chat_template=True"
        )
        return (
            "the pipeline renders prompt and response with its tokenizer's chat "
            f"template, which cannot be split back into messages ({how}); POST "
            "/reward with prompts and completions instead"
        )
    parts, seen = [], set()
    for literal, field, _, _ in string.Formatter().parse(embedder.text_template):
        parts.append(re.escape(literal))
        if field is None:
            continue
        if field in seen:  # the same text again
            parts.append(f"(?P={field})")
        else:
            # the first separator ends the prompt: the response may hold it too
            parts.append(
                f"(?P<{field}>.*?)" if field == "prompt" else f"(?P<{field}>.*)"
            )
            seen.add(field)
    return re.compile("".join(parts), re.DOTALL)


def split_query(embedder, query):
    r"""Split a rendered prompt-and-response text into ``(prompt, response)``.

    OpenRLHF's remote reward protocol sends each sample as one text, the prompt
    followed by the response. A pipeline whose embedder has
    ``prompt_column=None`` scores that text as the response; otherwise the text
    is matched against the embedder's ``text_template``: the prompt ends at the
    template's first separator (``"\n\n"`` by default). The server embeds the
    pair as it is split, without bringing it to the form of the training texts
    as ``/reward`` does, so the embedder renders it back into exactly the text
    received, and its reward is the reward of that text.

    Parameters
    ----------
    embedder : LLMEmbeddingTransformer
        The first step of the served pipeline.
    query : str
        A prompt and a response, rendered as one text.

    Returns
    -------
    prompt : str or None
        None when the embedder embeds responses alone.
    response : str

    Raises
    ------
    ValueError
        If the text does not have the template's form, or the embedder uses a
        chat template (``chat_template=True``, or ``"auto"`` with a decoder
        whose tokenizer has one: see
        :func:`~skpref.embeddings.uses_chat_template`), whose rendering cannot
        be split back into messages.
    ModelNotAvailableError
        If ``chat_template="auto"`` and the model's configuration or tokenizer,
        which resolve it, cannot be read.

    Examples
    --------
    >>> from skpref import LLMEmbeddingTransformer
    >>> from skpref.serve import split_query
    >>> embedder = LLMEmbeddingTransformer(chat_template=False)
    >>> split_query(embedder, "Human: Hi?\n\nHello!\n\nBye.")
    ('Human: Hi?', 'Hello!\n\nBye.')
    """
    if embedder.prompt_column is None:
        return None, query
    pattern = _query_pattern(embedder)
    if isinstance(pattern, str):
        raise ValueError(f"{OWNER}: {pattern}.")
    return _split(embedder, pattern, query)


def _split(embedder, pattern, query):
    """Split ``query`` with the regex of :func:`_query_pattern`."""
    match = pattern.fullmatch(query)
    if match is None:
        raise ValueError(
            f"{OWNER}: the text {query[:60]!r} does not have the pipeline's text "
            f"format {embedder.text_template!r}, so its prompt and response "
            "cannot be told apart; send texts in that format, or POST /reward "
            "with prompts and completions."
        )
    groups = match.groupdict()
    return groups.get("prompt", ""), groups["response"]


class _Job:
    """One request's texts and objective ids, and the future of its rewards."""

    def __init__(self, prompts, completions, objective_ids, future):
        self.prompts = prompts
        self.completions = completions
        self.objective_ids = objective_ids
        self.future = future


class _RewardService:
    """The pipeline, the request checks, and the micro-batching loop.

    Each job holds the texts the embedder renders: ``/reward``'s brought to the
    form of the training texts when the request is read (as
    :func:`~skpref.reward_function` brings them), ``/get_reward``'s split from
    the query and left as received, so that they render back into the query.
    A batch then embeds and scores them as ``reward_function`` does.
    """

    def __init__(self, pipeline, *, max_batch_size, max_wait_ms, max_bytes, max_items):
        reward_function(pipeline)  # refuses what is not a fitted text pipeline
        self.embedder, self.model = [
            step for _, step in pipeline.steps if step not in (None, "passthrough")
        ]
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000
        self.max_bytes = max_bytes
        self.max_items = max_items
        self.queue = None
        self.executor = None
        self.task = None
        self._warned = False  # about texts it could not bring to the fitted form

    # -- the request checks: each mistake becomes a RequestError ------------------

    async def read_json(self, request):
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > self.max_bytes:
                raise self._too_large(int(declared))
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_bytes:
                raise self._too_large(len(body), at_least=True)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as err:
            raise RequestError(400, f"the body is not valid JSON ({err}).") from None
        if not isinstance(data, dict):
            raise RequestError(
                422, f"expected a JSON object; got a JSON {_json_type(data)}."
            )
        return data

    def _too_large(self, size, *, at_least=False):
        more = "more than " if at_least else ""
        return RequestError(
            413,
            f"the body has {more}{size} bytes; this server accepts at most "
            f"{self.max_bytes} (--max-request-bytes). Send fewer or shorter texts "
            "per request.",
        )

    def texts(self, data, key, *, conversations=True):
        if key not in data:
            raise RequestError(
                422, f"the body has no {key!r}; got the keys {sorted(data)}."
            )
        values = data[key]
        if not isinstance(values, list):
            raise RequestError(
                422, f"{key!r} must be a list of texts; got a {_json_type(values)}."
            )
        if not values:
            raise RequestError(422, f"{key!r} is empty; send at least one text.")
        if len(values) > self.max_items:
            raise RequestError(
                413,
                f"{key!r} has {len(values)} texts; this server accepts at most "
                f"{self.max_items} per request (--max-request-items).",
            )
        try:
            values = check_text_list(values, argument=key, owner=OWNER)
            values, _ = check_texts(
                values, column=key, owner=OWNER, conversations=conversations
            )
        except ValueError as err:
            raise RequestError(422, str(err)) from None
        return list(values)

    def in_fitted_format(self, prompts, completions):
        """Bring a ``/reward`` request's texts to the form of the training texts."""
        try:
            prompts, completions, problems = self.embedder._in_fitted_format(
                prompts, completions
            )
        except ValueError as err:
            raise RequestError(422, str(err)) from None
        if problems and not self._warned:  # once, as reward_function says it
            self._warned = True
            warn_unfitted_form(OWNER, problems, stacklevel=3)
        return prompts, completions

    def objective_ids(self, data, n):
        objective = data.get("objective")
        coding = self.embedder.objective_categories_
        if self.embedder.objective_column_ is None:
            if objective is not None:
                raise RequestError(
                    422,
                    "the pipeline was fitted without an objective column, so it "
                    f"takes no objective; got objective={objective!r}.",
                )
            return None
        if objective is None:
            names = [] if coding is None else [str(c) for c in coding]
            raise RequestError(
                422,
                "the pipeline is multi-objective; give 'objective': a name of "
                f"{names} or an id, one for all texts or a list with one per text.",
            )
        if isinstance(objective, list):
            if len(objective) != n:
                raise RequestError(
                    422,
                    f"'objective' has {len(objective)} values for {n} texts; give "
                    "one for all or one per text.",
                )
        elif isinstance(objective, str | int) and not isinstance(objective, bool):
            objective = [objective] * n
        else:
            raise RequestError(
                422,
                "'objective' must be a name, an integer id or a list of them; got "
                f"a {_json_type(objective)}.",
            )
        if any(isinstance(v, bool) or not isinstance(v, str | int) for v in objective):
            raise RequestError(422, "'objective' must hold names or integer ids only.")
        try:
            return encode_objectives(np.asarray(objective), coding, owner=OWNER)
        except ValueError as err:
            raise RequestError(422, str(err)) from None

    # -- the micro-batching loop ----------------------------------------------------

    async def start(self):
        self.queue = asyncio.Queue()
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="skpref-reward")
        self.task = asyncio.create_task(self._batch_loop())

    async def stop(self):
        # uvicorn has already let every request in flight finish
        if self.task is not None:
            self.task.cancel()
            try:
                await self.task
            except asyncio.CancelledError:
                pass
        if self.executor is not None:
            self.executor.shutdown(wait=True)

    async def score(self, prompts, completions, objective_ids):
        future = asyncio.get_running_loop().create_future()
        self.queue.put_nowait(_Job(prompts, completions, objective_ids, future))
        return await future

    async def _batch_loop(self):
        loop = asyncio.get_running_loop()
        carried = None  # a job that did not fit the last batch: the next one's first
        while True:
            first = carried if carried is not None else await self.queue.get()
            carried = None
            # the first job runs whole, even when larger than max_batch_size
            jobs, size = [first], len(first.completions)
            deadline = loop.time() + self.max_wait
            while size < self.max_batch_size:
                try:
                    if self.queue.empty():
                        wait = deadline - loop.time()
                        if wait <= 0:
                            break
                        job = await asyncio.wait_for(self.queue.get(), wait)
                    else:
                        job = self.queue.get_nowait()
                except (TimeoutError, asyncio.TimeoutError):  # the latter: Python 3.10
                    break
                if size + len(job.completions) > self.max_batch_size:
                    carried = job
                    break
                jobs.append(job)
                size += len(job.completions)
            results = await loop.run_in_executor(self.executor, self._run, jobs)
            for job, result in zip(jobs, results, strict=True):
                if job.future.done():  # the client went away
                    continue
                if isinstance(result, BaseException):
                    job.future.set_exception(result)
                else:
                    job.future.set_result(result)

    def _run(self, jobs):
        """Score the jobs in one model call; on an error, each alone."""
        if len(jobs) > 1:
            try:
                rewards = self._rewards(jobs)
            except Exception:  # noqa: BLE001 - the culprit is found below
                return [self._run([job])[0] for job in jobs]
            bounds = np.cumsum([len(job.completions) for job in jobs])[:-1]
            return [chunk.tolist() for chunk in np.split(rewards, bounds)]
        try:
            return [self._rewards(jobs).tolist()]
        except Exception as err:  # noqa: BLE001 - sent to the one client it concerns
            return [err]

    def _rewards(self, jobs):
        prompts = None
        if jobs[0].prompts is not None:
            prompts = [p for job in jobs for p in job.prompts]
        completions = [c for job in jobs for c in job.completions]
        ids = None
        if jobs[0].objective_ids is not None:
            ids = np.concatenate([job.objective_ids for job in jobs])
        # the texts are already in the form to embed (see the class docstring)
        E = self.embedder._transform_responses(
            prompts, completions, ids, write_cache=False
        )
        return np.asarray(self.model.predict_reward(E), dtype=np.float64)


def _json_type(value):
    names = {dict: "object", list: "list", str: "string", bool: "boolean"}
    if value is None:
        return "null"
    return names.get(
        type(value),
        "number" if isinstance(value, int | float) else type(value).__name__,
    )


@validate_params(
    {
        "pipeline": "no_validation",
        "max_batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_wait_ms": [Interval(Real, 0, None, closed="left")],
        "max_request_bytes": [Interval(Integral, 1, None, closed="left")],
        "max_request_items": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def make_app(
    pipeline,
    *,
    max_batch_size=256,
    max_wait_ms=5.0,
    max_request_bytes=DEFAULT_MAX_BYTES,
    max_request_items=DEFAULT_MAX_ITEMS,
):
    """Build the reward server's ASGI application for a fitted text pipeline.

    ``skpref serve MODEL`` runs it with uvicorn; ``make_app`` lets you mount it
    in your own ASGI server. Needs the ``serve`` extra
    (``pip install "skpref[serve]"``).

    Routes:

    - ``POST /reward`` with ``{"prompts": [...], "completions": [...],
      "objective": ...}`` answers ``{"rewards": [...]}``, the values of
      :func:`skpref.reward_function` on the same texts. Prompts and completions
      are texts or conversations (lists of ``{"role", "content"}``);
      ``prompts`` is left out for pipelines without prompts; ``objective``
      (multi-objective pipelines only) is a name or id for all completions, or
      a list with one per completion.
    - ``POST /get_reward`` with ``{"query": [...]}`` answers
      ``{"rewards": [...]}``: OpenRLHF's remote reward-model protocol
      (``--remote_rm_url http://host:port/get_reward``). Each query is a
      prompt followed by its response as one text, split by
      :func:`split_query`; other keys OpenRLHF sends (``prompts``,
      ``labels``) are ignored, ``objective`` is read as above. A pipeline
      whose embedder uses a chat template
      (:func:`~skpref.embeddings.uses_chat_template`, resolved once here)
      answers 422: use ``/reward``.
    - ``GET /health`` answers ``{"status": "ok", ...}`` with what a client
      needs to know: the objective column and names, whether prompts are
      used, and the request limits.

    A malformed, oversized, empty or wrongly typed request is answered with an
    HTTP 4xx status and ``{"error": "<what is wrong>"}``; the server keeps
    serving.

    Parameters
    ----------
    pipeline : sklearn.pipeline.Pipeline
        A fitted text pipeline (an :class:`~skpref.LLMEmbeddingTransformer`
        first, a reward model last), for example from :func:`skpref.load`.
    max_batch_size : int, default=256
        Most completions gathered into one model call (a larger request runs
        alone, whole); a request that would overflow a batch starts the next.
    max_wait_ms : float, default=5.0
        How long the first request of a batch waits for others, in
        milliseconds; 0 batches only the requests that queued while the model
        was busy.
    max_request_bytes : int, default=8388608
        Largest request body, in bytes (8 MiB); a larger one gets HTTP 413.
    max_request_items : int, default=4096
        Most texts in one request; more get HTTP 413.

    Returns
    -------
    app : starlette.applications.Starlette

    See Also
    --------
    RemoteReward : The client, a TRL reward function.
    skpref.reward_function : The same rewards in-process.

    Examples
    --------
    >>> from skpref.serve import make_app
    >>> make_app("not a pipeline")
    Traceback (most recent call last):
    ...
    ValueError: reward_function expects a fitted Pipeline([('embed', \
LLMEmbeddingTransformer(...)), ('reward', <a reward model>)]); got str.
    """
    try:
        from starlette.applications import Starlette
        from starlette.exceptions import HTTPException
        from starlette.responses import JSONResponse
        from starlette.routing import Route
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            f"{OWNER} needs Starlette and uvicorn: pip install 'skpref[serve]'."
        ) from err
    service = _RewardService(
        pipeline,
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        max_bytes=max_request_bytes,
        max_items=max_request_items,
    )
    embedder = service.embedder
    pattern = _query_pattern(embedder) if embedder.prompt_column is not None else None

    def error(status, message):
        return JSONResponse({"error": message}, status_code=status)

    async def answer(request, parse):
        try:
            data = await service.read_json(request)
            prompts, completions, objective_ids = parse(data)
        except RequestError as err:
            return error(err.status, err.message)
        try:
            rewards = await service.score(prompts, completions, objective_ids)
        except (ValueError, TypeError) as err:
            return error(422, str(err))
        except Exception as err:  # noqa: BLE001 - the server keeps serving
            return error(500, f"{type(err).__name__}: {err}")
        return JSONResponse({"rewards": rewards})

    def parse_reward(data):
        completions = service.texts(data, "completions")
        prompts = None
        if embedder.prompt_column is not None:
            prompts = service.texts(data, "prompts")
            if len(prompts) != len(completions):
                raise RequestError(
                    422,
                    f"expected one prompt per completion; got {len(prompts)} "
                    f"prompts and {len(completions)} completions.",
                )
        elif data.get("prompts") is not None:
            raise RequestError(
                422,
                "the pipeline embeds each completion alone (prompt_column=None); "
                "leave 'prompts' out.",
            )
        objective_ids = service.objective_ids(data, len(completions))
        prompts, completions = service.in_fitted_format(prompts, completions)
        return prompts, completions, objective_ids

    def parse_query(data):
        queries = service.texts(data, "query", conversations=False)
        if isinstance(pattern, str):
            raise RequestError(422, f"/get_reward: {pattern}.")
        if pattern is None:  # the pipeline embeds responses alone
            prompts, completions = None, queries
        else:
            pairs = []
            for i, query in enumerate(queries):
                try:
                    pairs.append(_split(embedder, pattern, query))
                except ValueError as err:
                    raise RequestError(422, f"query {i}: {err}") from None
            prompts = [p for p, _ in pairs]
            completions = [r for _, r in pairs]
        return prompts, completions, service.objective_ids(data, len(completions))

    async def reward(request):
        return await answer(request, parse_reward)

    async def get_reward(request):
        return await answer(request, parse_query)

    async def health(request):
        coding = embedder.objective_categories_
        return JSONResponse(
            {
                "status": "ok",
                "skpref_version": __version__,
                "objective_column": embedder.objective_column_,
                "objectives": None if coding is None else [str(c) for c in coding],
                "uses_prompts": embedder.prompt_column is not None,
                "max_request_bytes": max_request_bytes,
                "max_request_items": max_request_items,
            }
        )

    async def http_error(request, exc):
        return error(
            exc.status_code, f"{exc.detail} ({request.method} {request.url.path})"
        )

    async def lifespan(app):
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    return Starlette(
        routes=[
            Route("/reward", reward, methods=["POST"]),
            Route("/get_reward", get_reward, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ],
        exception_handlers={HTTPException: http_error},
        lifespan=asynccontextmanager(lifespan),
    )
