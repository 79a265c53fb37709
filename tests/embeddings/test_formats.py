"""The form of the training texts, and texts of other forms brought to it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skpref.embeddings._formats import conform, detect_format

HH = detect_format(
    ["Human: Hi", "Human: Why?\n\nAssistant: Yes.\n\nHuman: Sure?"], ["a", "b"]
)
BARE = detect_format(["Hi", "Why?"], ["a", "b"])
CHAT = detect_format(
    [[{"role": "user", "content": "Hi"}]], [[{"role": "assistant", "content": "a"}]]
)

words = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8)
sentences = st.lists(words, min_size=1, max_size=4).map(" ".join)
turns = st.lists(sentences, min_size=1, max_size=4)


def test_detected_forms():
    assert (HH["prompt"], HH["user"], HH["response"]) == ("dialogue", "Human", "text")
    assert BARE["prompt"] == "bare" and CHAT["prompt"] == "conversation"
    assert CHAT["response"] == "conversation"
    assert detect_format(["User: Hi"] * 9 + ["Hi"], ["a"] * 10)["user"] == "User"
    assert detect_format(["Human: Hi", "Hi"], ["a", "b"])["prompt"] == "mixed"
    assert detect_format(None, ["a"])["prompt"] is None
    tagged = detect_format(["Human: Hi\n\nAssistant:"], ["a"])
    assert tagged["assistant_tag"]


def _forms(dialogue):
    """One dialogue (user turn first, alternating) in the forms RL trainers use."""
    roles = ["user", "assistant"] * len(dialogue)
    messages = [
        {"role": r, "content": c} for r, c in zip(roles, dialogue, strict=False)
    ]
    human = "\n\n".join(
        f"{'Human' if m['role'] == 'user' else 'Assistant'}: {m['content']}"
        for m in messages
    )
    user = human.replace("Human:", "User:")
    return messages, [human, f"{human}\n\nAssistant:", user, f"\n\n{human}", messages]


@given(turns)
def test_every_form_of_a_dialogue_reaches_the_dialogue_form(dialogue):
    messages, forms = _forms(dialogue)
    expected = _forms(dialogue)[1][0]
    got, _, problems = conform(HH, forms, ["r"] * len(forms))
    assert got == [expected] * len(forms) and not problems
    # the conversation form: the same messages, whatever form they came in
    got, _, _ = conform(CHAT, forms, ["r"] * len(forms))
    assert got == [messages] * len(forms)


@given(sentences)
def test_a_single_question_reaches_every_form(question):
    forms = [question, f"Human: {question}", [{"role": "user", "content": question}]]
    assert conform(BARE, forms, ["r"] * 3)[0] == [question] * 3
    assert conform(HH, forms, ["r"] * 3)[0] == [f"Human: {question}"] * 3


@given(st.lists(sentences, min_size=1, max_size=5))
def test_texts_in_the_fitted_form_are_unchanged(questions):
    prompts = [f"Human: {q}" for q in questions]
    assert conform(HH, prompts, questions) == (prompts, questions, set())
    assert conform(BARE, questions, questions) == (questions, questions, set())


def test_responses_take_the_fitted_form():
    as_message = [{"role": "assistant", "content": "Fine."}]
    assert conform(HH, ["Hi"], [as_message])[1] == ["Fine."]
    assert conform(CHAT, ["Hi"], ["Fine."])[1] == [as_message]


@pytest.mark.parametrize(
    ("fitted", "prompt", "problem"),
    [
        (
            HH,
            [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
            ],
            "system message",
        ),
        (BARE, "Human: Hi\n\nAssistant: Yes.\n\nHuman: Sure?", "several turns"),
        (detect_format(["Human: Hi", "Hi"], ["a", "b"]), "Hi", "mix dialogue text"),
        (None, "Hi", "fitted before skpref recorded"),
    ],
)
def test_what_cannot_be_carried_over_is_named(fitted, prompt, problem):
    _, _, problems = conform(fitted, [prompt], ["r"])
    assert any(problem in p for p in problems)
