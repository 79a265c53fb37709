"""The client of the reward server: a TRL reward function that calls it over HTTP."""

import time
from numbers import Integral, Real

from skpref.utils import (
    Interval,
    objective_from_columns,
    validate_parameter_constraints,
)

__all__ = ["RemoteReward"]

OWNER = "RemoteReward"


class RemoteReward:
    """A TRL reward function served by ``skpref serve`` on another process or host.

    Calls look like :func:`skpref.reward_function`'s,
    ``reward(prompts, completions, **kwargs) -> list[float]``, and give the
    same values: each call POSTs the texts to the server's ``/reward`` route (in
    requests of at most ``batch_size`` completions) and returns its rewards.
    Connection errors, timeouts and HTTP 5xx answers are retried; a request the
    server refuses (HTTP 4xx) raises at once with the server's message.

    Parameters
    ----------
    url : str
        The server's address, for example ``"http://127.0.0.1:8000"``.
    objective : str, int or None, default=None
        For multi-objective pipelines, the objective to reward (a name or an
        id). None takes it from the keyword argument named like the served
        pipeline's objective column (a dataset column), as
        :func:`skpref.reward_function` does: one name or id (NumPy scalars
        included) for all completions, or a sequence with one per completion.
    batch_size : int or None, default=None
        Most completions per request; None sends each call's completions in
        one request, or in as many as the server's item limit needs.
    timeout : float, default=60.0
        Seconds to wait for each answer.
    max_retries : int, default=3
        Retries of a request after a connection error, a timeout or a 5xx
        answer, waiting ``backoff * 2**attempt`` seconds before each.
    backoff : float, default=0.5
        Seconds before the first retry.

    Attributes
    ----------
    __name__ : str
        ``"skpref_remote_reward"``, then ``"_<objective>"``: the name TRL logs
        the rewards under.

    See Also
    --------
    skpref.reward_function : The same rewards in-process.
    skpref.serve.make_app : The server.

    Notes
    -----
    The client learns the served pipeline's objective column from ``GET
    /health`` on its first call. It needs ``httpx`` (the ``serve`` extra), is
    picklable, and opens one connection per call, so threads may share it.

    Examples
    --------
    >>> from skpref.serve import RemoteReward
    >>> reward = RemoteReward("http://127.0.0.1:8000", objective="helpful")
    >>> reward.__name__
    'skpref_remote_reward_helpful'
    >>> RemoteReward("127.0.0.1:8000")
    Traceback (most recent call last):
    ...
    ValueError: RemoteReward expects url to start with http:// or https://; got \
'127.0.0.1:8000'.
    """

    _parameter_constraints = {
        "url": [str],
        "objective": [str, Interval(Integral, 0, None, closed="left"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "timeout": [Interval(Real, 0, None, closed="neither")],
        "max_retries": [Interval(Integral, 0, None, closed="left")],
        "backoff": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        url,
        *,
        objective=None,
        batch_size=None,
        timeout=60.0,
        max_retries=3,
        backoff=0.5,
    ):
        params = {
            "url": url,
            "objective": objective,
            "batch_size": batch_size,
            "timeout": timeout,
            "max_retries": max_retries,
            "backoff": backoff,
        }
        validate_parameter_constraints(self._parameter_constraints, params, OWNER)
        if not url.startswith(("http://", "https://")):
            raise ValueError(
                f"{OWNER} expects url to start with http:// or https://; got {url!r}."
            )
        self.url = url.rstrip("/")
        self.objective = objective
        self.batch_size = batch_size
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        suffix = "" if objective is None else f"_{objective}"
        self.__name__ = f"skpref_remote_reward{suffix}"
        self._health = None

    def __repr__(self):
        return f"RemoteReward({self.url!r}, objective={self.objective!r})"

    def health(self):
        """Return the server's ``GET /health`` answer (a dict)."""
        import httpx

        with httpx.Client(timeout=self.timeout) as client:
            return self._request(client, "GET", "/health", None)

    def __call__(self, prompts, completions, **kwargs):
        """Return the rewards of the completions, one float each."""
        if self._health is None:
            self._health = self.health()
        info = self._health
        completions = list(completions)
        if not completions:
            return []
        column = info.get("objective_column")
        objective = objective_from_columns(
            self.objective,
            column,
            kwargs,
            owner=OWNER,
            pipeline="served pipeline",
        )
        # JSON takes Python's scalars, not NumPy's
        if isinstance(objective, list):  # one per completion
            objective = [_plain(value) for value in objective]
        elif objective is not None:  # one for all
            objective = _plain(objective)
        prompts = None if prompts is None else list(prompts)
        step = min(self.batch_size or len(completions), info["max_request_items"])
        import httpx

        rewards = []
        # one connection per call: thread-safe, and nothing left open between calls
        with httpx.Client(timeout=self.timeout) as client:
            for start in range(0, len(completions), step):
                body = {"completions": completions[start : start + step]}
                if info.get("uses_prompts", True) and prompts is not None:
                    body["prompts"] = prompts[start : start + step]
                if isinstance(objective, list):
                    body["objective"] = objective[start : start + step]
                elif objective is not None:
                    body["objective"] = objective
                answer = self._request(client, "POST", "/reward", body)
                rewards += answer["rewards"]
        return [float(reward) for reward in rewards]

    def _request(self, client, method, path, body):
        import httpx

        url = self.url + path
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = client.request(method, url, json=body)
            except (httpx.TransportError, httpx.TimeoutException) as err:
                if last:
                    raise ConnectionError(
                        f"{OWNER}: no answer from {url} after {attempt + 1} tries "
                        f"({type(err).__name__}: {err}); is `skpref serve` running "
                        "there?"
                    ) from err
            else:
                if response.status_code < 400:
                    return response.json()
                message = _error_message(response)
                if response.status_code < 500:
                    raise ValueError(
                        f"{OWNER}: the server at {url} refused the request "
                        f"(HTTP {response.status_code}): {message}"
                    )
                if last:
                    raise ConnectionError(
                        f"{OWNER}: the server at {url} failed {attempt + 1} times "
                        f"(HTTP {response.status_code}): {message}"
                    )
            time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover


def _plain(value):
    """Return an objective as JSON takes it: NumPy scalars as Python ones.

    A whole float is the id it stands for, as :func:`skpref.reward_function` reads
    it; the server takes integer ids only.
    """
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _error_message(response):
    try:
        return response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return response.text[:200]
