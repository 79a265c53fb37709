"""The data home: where ``load_*`` look for files and ``fetch_*`` put them."""

import difflib
import gzip
import json
import os
import zlib
from pathlib import Path

__all__ = ["get_data_home"]

DATA_HOME_ENV = "SKPREF_DATA_HOME"


def get_data_home(data_home=None):
    """Return the folder that holds skpref's real data sets.

    The folder is, in order of precedence: the ``data_home`` argument, the
    environment variable ``SKPREF_DATA_HOME``, then ``~/skpref_data``. The folder
    is not created here (it may be a read-only shared copy); the ``fetch_*``
    functions create it when they download into it.

    Its layout mirrors the upstream files: ``hh_rlhf/<subset>/<split>.jsonl.gz``,
    ``hh_rlhf_relabeled_dpl/<subset>/<split>.jsonl.gz``, ``ultrafeedback/*.jsonl``
    and precomputed embeddings in ``embeddings/<model>/<file>.npz``.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Folder to use. ``None`` means: ``$SKPREF_DATA_HOME`` if set, else
        ``~/skpref_data``. A leading ``~`` is expanded.

    Returns
    -------
    data_home : pathlib.Path
        The folder (it need not exist).

    Examples
    --------
    >>> from skpref.datasets import get_data_home
    >>> get_data_home("/tmp/my_skpref_data").as_posix()
    '/tmp/my_skpref_data'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or Path("~") / "skpref_data"
    return Path(data_home).expanduser()


def _describe_home(data_home):
    """Say where the data home came from, for error messages."""
    if data_home is not None:
        return f"the data_home argument ({get_data_home(data_home)})"
    if os.environ.get(DATA_HOME_ENV):
        return f"${DATA_HOME_ENV} ({get_data_home()})"
    return f"the default data home {get_data_home()} ($SKPREF_DATA_HOME is not set)"


def _find_data_file(relative, data_home, *, owner, how_to_get):
    """Return the path of ``relative`` (``.jsonl.gz`` or ``.jsonl``) in the home.

    ``relative`` names the file without its extension, e.g.
    ``"hh_rlhf/helpful-base/test"``. Raises ``FileNotFoundError`` saying every
    place that was looked at and how to get the file.
    """
    home = get_data_home(data_home)
    candidates = [home / f"{relative}{ext}" for ext in (".jsonl.gz", ".jsonl")]
    for path in candidates:
        if path.is_file():
            return path
    looked = ", ".join(str(path) for path in candidates)
    raise FileNotFoundError(
        f"{owner} could not find {relative}.jsonl[.gz] in {_describe_home(data_home)}; "
        f"looked for {looked}. {how_to_get} Or pass data_home= / set "
        f"${DATA_HOME_ENV} to a folder that holds it."
    )


def _binary_lines(path, *, owner):
    """Yield ``(line_number, bytes)`` of a plain or gzip file.

    A truncated or damaged ``.gz`` raises a ``ValueError`` naming the file and
    the last line read whole, instead of zlib's or gzip's bare error.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    line_number = 0
    with opener(path, "rb") as handle:
        try:
            for line_number, line in enumerate(handle, start=1):
                yield line_number, line
        except (EOFError, OSError, zlib.error) as exc:
            raise ValueError(
                f"{owner}: {path} is truncated or damaged: reading "
                f"failed after line {line_number} ({type(exc).__name__}: {exc}). "
                "Download the file again (or check it against its checksum)."
            ) from exc


def _read_jsonl(path, *, owner, required):
    """Read a JSON-lines file into a list of dicts, naming the line of any fault.

    Blank lines are skipped but still counted, so the reported line numbers are
    the ones an editor shows. ``required`` maps each required key to the Python
    type its value must have. Each line is decoded on its own, so bytes that are
    not UTF-8 are reported with their line.
    """
    records = []
    for line_number, raw in _binary_lines(path, owner=owner):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"{owner}: line {line_number} of {path} is not UTF-8 text (byte "
                f"{raw[exc.start]:#04x} at column {exc.start + 1}). The file must be "
                "UTF-8 JSON lines; re-download it or convert it with iconv."
            ) from None
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(
                f"{owner}: line {line_number} of {path} is not valid JSON "
                f"({exc.msg} at column {exc.colno}). Each line must hold one "
                "JSON object; re-download the file if it was truncated."
            ) from exc
        if not isinstance(record, dict):
            raise ValueError(
                f"{owner}: line {line_number} of {path} holds a JSON "
                f"{type(record).__name__}, expected an object with the keys "
                f"{sorted(required)}."
            )
        for key, kind in required.items():
            if key not in record:
                raise ValueError(
                    f"{owner}: line {line_number} of {path} has no {key!r} "
                    f"field; expected the keys {sorted(required)}, got "
                    f"{sorted(record)}."
                )
            if not isinstance(record[key], kind):
                raise ValueError(
                    f"{owner}: line {line_number} of {path}: the {key!r} field "
                    f"must be a {kind.__name__}, got "
                    f"{type(record[key]).__name__}."
                )
        _check_unicode(record, f"{owner}: line {line_number} of {path}")
        records.append((line_number, record))
    return records


def _check_unicode(record, where):
    """Refuse text that is not valid Unicode, which JSON's surrogate escapes allow."""
    try:
        json.dumps(record, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        for key, value in record.items():
            try:
                json.dumps(value, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError as exc:
                bad = ord(exc.object[exc.start])
                raise ValueError(
                    f"{where}: the {key!r} field holds the lone surrogate "
                    f"U+{bad:04X}, which is not valid Unicode text. Repair the file "
                    "(e.g. re-encode the text with errors='replace')."
                ) from None


def _check_option(value, options, *, name, owner):
    """Raise a ValueError with a "did you mean" hint if ``value`` is not allowed."""
    if value in options:
        return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, list(options), n=1)
        if close:
            hint = f" Did you mean {close[0]!r}?"
    raise ValueError(
        f"{owner} expects {name} to be one of {sorted(options)}; got {value!r}.{hint}"
    )
