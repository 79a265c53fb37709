"""The rewriter protocol, the rule-based rewriter and the cache of rewrites."""

import functools
import sqlite3

import pytest

from skpref.causal import CachedRewriter, RuleBasedRewriter

LONG = " ".join(f"Sentence number {i} has five words." for i in range(20))


@pytest.mark.parametrize("attribute", ["length", "politeness"])
def test_rule_rewrites_have_the_value_asked_for(attribute):
    rewriter = RuleBasedRewriter(attribute, length_threshold=20)
    texts = [
        "Short answer.",
        LONG,
        "Sorry, I cannot. Please ask a doctor.",
        "Thank you!",
        "- one\n- two",
        "",
    ]
    for target in (0, 1):
        rewrites = rewriter(None, texts, [target] * len(texts))
        assert [rewriter.has_attribute(t) for t in rewrites] == [target] * len(texts)
        # every rewrite is flattened, the side effect the correction cancels
        assert not any("\n" in t or "  " in t for t in rewrites)
    # a rewrite to the value a text already has only flattens it
    assert rewriter(None, ["- one\n- two"], [rewriter.has_attribute("- one")]) == [
        "- one - two"
    ]


def test_rule_rewriter_refuses_bad_settings_and_input():
    with pytest.raises(ValueError, match="attribute must be 'length' or 'politeness'"):
        RuleBasedRewriter("tone")(None, ["a"], [1])
    with pytest.raises(ValueError, match="length_threshold must be an int >= 2"):
        RuleBasedRewriter(length_threshold=1.5)(None, ["a"], [1])
    rewriter = RuleBasedRewriter()
    with pytest.raises(ValueError, match="target as 0/1 values, one per response"):
        rewriter(None, ["a", "b"], [1, 2])
    with pytest.raises(ValueError, match="got 1 prompts for 2 responses"):
        rewriter(["p"], ["a", "b"], 1)
    with pytest.raises(ValueError, match="expects responses as str; got NoneType"):
        rewriter(None, ["a", None], 1)


class CountingRewriter:
    """Upper-cases to target 1, lower-cases to 0; records the rows it is given,
    and fails on the row ``fail_on`` (after the rows before it are returned)."""

    def __init__(self, fail_on=None):
        self.seen, self.fail_on = [], fail_on

    def __call__(self, prompts, responses, target):
        if self.fail_on is not None and self.fail_on in responses:
            raise ConnectionError("server went away")
        self.seen.extend(responses)
        return [
            r.upper() if t else r.lower()
            for r, t in zip(responses, target, strict=True)
        ]


def test_cache_makes_a_rerun_free_and_resumes_an_interrupted_run(tmp_path):
    texts = [f"Text {i}" for i in range(10)]
    failing = CountingRewriter(fail_on="Text 7")
    rewriter = CachedRewriter(failing, tmp_path, name="count", batch_size=3)
    with pytest.raises(ConnectionError):
        rewriter(None, texts, 1)
    # the chunks before the failing one (rows 0-5) are kept
    assert failing.seen == texts[:6]
    conn = sqlite3.connect(tmp_path / "rewrites.sqlite")
    assert conn.execute("SELECT COUNT(*) FROM rewrites").fetchone() == (6,)
    conn.close()
    working = CountingRewriter()
    resumed = CachedRewriter(working, tmp_path, name="count", batch_size=3)
    assert resumed(None, texts, 1) == [t.upper() for t in texts]
    assert working.seen == texts[6:]
    # a re-run costs nothing
    assert resumed(None, texts, 1) == [t.upper() for t in texts]
    assert working.seen == texts[6:]


def test_cache_keys_hold_identity_instruction_target_prompt_and_response(tmp_path):
    inner = CountingRewriter()
    base = {"name": "a", "instruction": "x"}
    CachedRewriter(inner, tmp_path, **base)(["p"], ["Hi"], [1])
    for change in (
        {"name": "b"},
        {"instruction": "y"},
        {"instruction": {0: "x", 1: "z"}},
    ):
        CachedRewriter(inner, tmp_path, **{**base, **change})(["p"], ["Hi"], [1])
    cached = CachedRewriter(inner, tmp_path, **base)
    cached(["p"], ["Hi"], [0])  # another target
    cached(["q"], ["Hi"], [1])  # another prompt
    cached(["p"], ["Hi!"], [1])  # another response
    assert len(inner.seen) == 7
    cached(["p"], ["Hi"], [1])
    assert len(inner.seen) == 7


def test_rule_rewriter_cache(tmp_path):
    rewriter = RuleBasedRewriter("politeness", cache_dir=tmp_path)
    first = rewriter(None, ["Go."], [1])
    # a changed rule setting is another identity: the length rewriter misses
    other = RuleBasedRewriter("length", length_threshold=3, cache_dir=tmp_path)
    assert other(None, ["Go."], [1]) != first
    conn = sqlite3.connect(tmp_path / "rewrites.sqlite")
    assert conn.execute("SELECT text FROM rewrites").fetchall()[0] == (first[0],)
    conn.close()


def test_cached_rewriter_checks_what_the_function_returns(tmp_path):
    rewriter = CachedRewriter(lambda p, r, t: [None] * len(r), tmp_path, name="none")
    with pytest.raises(ValueError, match="returned NoneType at row 0"):
        rewriter(None, ["a"], 1)
    with pytest.raises(ValueError, match="needs a cache_dir"):
        CachedRewriter(lambda p, r, t: list(r), None)(None, ["a"], 1)


def suffix(prompts, responses, target, text=""):
    return [r + text for r in responses]


def make_suffix(text):
    def rewrite(prompts, responses, target):
        return suffix(prompts, responses, target, text)

    return rewrite


class Suffix:
    def __init__(self, text):
        self.text = text

    def __call__(self, prompts, responses, target):
        return suffix(prompts, responses, target, self.text)

    def rewrite(self, prompts, responses, target):
        return self(prompts, responses, target)


@pytest.mark.parametrize(
    "make, shown",
    [
        (lambda text: functools.partial(suffix, text=text), "a partial object"),
        (Suffix, "a Suffix object"),
        (lambda text: Suffix(text).rewrite, "a method object"),
        (make_suffix, "the function 'make_suffix.<locals>.rewrite'"),
        (
            lambda text: lambda p, r, t: suffix(p, r, t, text),
            "the function '<lambda>.<locals>.<lambda>'",
        ),
    ],
)
def test_cached_rewriter_needs_a_name_where_the_function_s_does_not_say_it_all(
    tmp_path, make, shown
):
    # two rewriters with one qualified name but other settings: without name=
    # the second would be served the first one's rewrites
    with pytest.raises(ValueError, match=f"got {shown}.*Pass name="):
        CachedRewriter(make(" [A]"), tmp_path)(None, ["hello"], [1])
    a = CachedRewriter(make(" [A]"), tmp_path, name="A")
    b = CachedRewriter(make(" [B]"), tmp_path, name="B")
    assert a(None, ["hello"], [1]) == ["hello [A]"]
    assert b(None, ["hello"], [1]) == ["hello [B]"]


def test_cached_rewriter_knows_a_module_level_function_by_its_qualified_name(
    tmp_path,
):
    rewriter = CachedRewriter(suffix, tmp_path)
    assert rewriter(None, ["hello"], [1]) == ["hello"]
    assert rewriter._identity()["name"] == f"{__name__}.suffix"
