"""Every Python code block of README.md and docs/*.rst runs as written.

A page's Python blocks run in order in one namespace, like a notebook, in a fresh
working folder, with the shared data home and the offline MiniLM. Blocks written
with ``>>>`` prompts run as doctests. Blocks in another language (bash, text) are
not run, but every code block must say its language: a bare ``::`` literal block
or an untagged fence is an error here, so no Python escapes the check by accident.

A block whose first line is ``# needs: network`` (or ``gpu``, ``slow``) gives its
page the pytest marker of that name, so the page runs only where the network or a
GPU is available, or in the slow tier.
"""

import doctest
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.rst"))]
#: Pages whose blocks train full-size models or start clusters (tens of seconds on
#: 2 cores): they run in the slow tier, which CI also runs.
SLOW_PAGES = {"README.md", "index.rst", "causal.rst", "scaling.rst"}
_NEEDS = re.compile(r"^#\s*needs:\s*(\w+)")


@dataclass
class Block:
    language: str
    code: str
    line: int

    @property
    def needs(self):
        match = _NEEDS.match(self.code.lstrip())
        return match.group(1) if match else None


def _dedent_block(lines):
    body = [line for line in lines if line.strip()]
    indent = min((len(line) - len(line.lstrip()) for line in body), default=0)
    return "\n".join(line[indent:] for line in lines).strip("\n") + "\n"


def markdown_blocks(text):
    """Fenced blocks of a Markdown page: (language, code, first line)."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        match = re.match(r"^(\s*)```(\S*)\s*$", lines[i])
        if not match:
            i += 1
            continue
        start, body = i + 1, []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith("```"):
            body.append(lines[i])
            i += 1
        blocks.append(Block(match.group(2), _dedent_block(body), start + 1))
        i += 1
    return blocks


def rst_blocks(text):
    """Code blocks of a reStructuredText page: ``code-block`` and ``::`` literals."""
    blocks, lines = [], text.splitlines()
    for i, line in enumerate(lines):
        directive = re.match(r"^\s*\.\. (?:code-block|code|sourcecode)::\s*(\S*)", line)
        if directive:
            language = directive.group(1)
        elif line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            language = ""  # a bare literal block
        else:
            continue
        indent = len(line) - len(line.lstrip())
        j = i + 1
        while j < len(lines) and (
            not lines[j].strip() or lines[j].lstrip().startswith(":")
        ):
            j += 1  # blank lines and directive options such as :caption:
        body = []
        while j < len(lines) and (
            not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent
        ):
            body.append(lines[j])
            j += 1
        if any(part.strip() for part in body):
            blocks.append(Block(language, _dedent_block(body), i + 1))
    return blocks


def page_blocks(path):
    text = path.read_text(encoding="utf-8")
    return markdown_blocks(text) if path.suffix == ".md" else rst_blocks(text)


def _run_block(block, namespace, where):
    if block.code.lstrip().startswith(">>>"):
        parser = doctest.DocTestParser()
        test = parser.get_doctest(block.code, namespace, where, where, block.line)
        runner = doctest.DocTestRunner(
            optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
        )
        runner.run(test, out=lambda text: None)
        failed = runner.summarize(verbose=False).failed
        assert not failed, f"{where}: {failed} doctest example(s) failed"
        return
    exec(compile(block.code, where, "exec"), namespace)


def _cases():
    cases = []
    for path in PAGES:
        blocks = [b for b in page_blocks(path) if b.language in {"python", "py"}]
        if not blocks:
            continue
        marks = [pytest.mark.slow] if path.name in SLOW_PAGES else []
        needs = {b.needs for b in blocks} - {None}
        marks += [getattr(pytest.mark, need) for need in sorted(needs)]
        cases.append(pytest.param(path, blocks, id=path.name, marks=marks))
    return cases


@pytest.mark.parametrize("path, blocks", _cases())
def test_python_blocks_run(path, blocks, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "agg")
    monkeypatch.setenv("SKPREF_CACHE_DIR", str(tmp_path / "cache"))
    if "SKPREF_DATA_HOME" not in os.environ:
        monkeypatch.setenv(
            "SKPREF_DATA_HOME", str(REPO_ROOT.parent / "shared" / "data")
        )
    # blocks run as scripts: a `if __name__ == "__main__":` guard runs its body
    # a block that raises fails the test; doctest blocks assert their outputs
    namespace = {"__name__": "__main__"}
    for block in blocks:
        where = f"{path.relative_to(REPO_ROOT)}:{block.line}"
        _run_block(block, namespace, where)


@pytest.mark.parametrize("path", PAGES, ids=[p.name for p in PAGES])
def test_every_code_block_names_its_language(path):
    untagged = [b.line for b in page_blocks(path) if not b.language]
    assert not untagged, (
        f"{path.name}: code blocks at lines {untagged} do not say their language; "
        "write '.. code-block:: python' (run by this test) or '.. code-block:: "
        "text' / 'bash' (not run) instead of a bare '::' or an untagged fence."
    )


def test_block_parsers_find_blocks_and_languages():
    rst = (
        "Intro::\n\n    x = 1\n\n"
        ".. code-block:: python\n   :caption: c\n\n   y = 2\n   z = y\n\nText\n"
    )
    assert [(b.language, b.code) for b in rst_blocks(rst)] == [
        ("", "x = 1\n"),
        ("python", "y = 2\nz = y\n"),
    ]
    md = "text\n```python\nprint(1)\n```\n```\nplain\n```\n"
    assert [(b.language, b.code) for b in markdown_blocks(md)] == [
        ("python", "print(1)\n"),
        ("", "plain\n"),
    ]
    assert Block("python", "# needs: network\nx = 1\n", 1).needs == "network"
