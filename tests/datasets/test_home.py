import json
from pathlib import Path

import pytest

import skpref.datasets._fetch as fetch_module
from skpref.datasets import ASPECTS, fetch_hh_rlhf, fetch_ultrafeedback, get_data_home


def test_argument_beats_environment_beats_default(tmp_path, monkeypatch):
    monkeypatch.setenv("SKPREF_DATA_HOME", str(tmp_path / "env"))
    assert get_data_home(tmp_path / "arg") == tmp_path / "arg"
    assert get_data_home() == tmp_path / "env"
    monkeypatch.delenv("SKPREF_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert get_data_home() == tmp_path / "home" / "skpref_data"
    assert get_data_home("~/x") == tmp_path / "home" / "x"
    assert not (tmp_path / "home" / "skpref_data").exists()  # never created here


def test_empty_environment_variable_means_unset(tmp_path, monkeypatch):
    monkeypatch.setenv("SKPREF_DATA_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == tmp_path / "skpref_data"


def test_ci_points_the_data_home_at_the_shared_data(data_home):
    assert isinstance(get_data_home(data_home), Path)
    assert (get_data_home(data_home) / "hh_rlhf").is_dir()


def test_fetch_rejects_unknown_subset_before_any_download(tmp_path):
    with pytest.raises(ValueError, match="Did you mean 'harmless-base'"):
        fetch_hh_rlhf("harmles-base", data_home=tmp_path)
    assert not (tmp_path / "hh_rlhf").exists()


def test_fetch_uses_a_file_already_in_the_data_home(data_home):
    # the shared data holds the test split, so nothing is downloaded
    frame = fetch_hh_rlhf("helpful-online", "test", data_home=data_home)
    assert len(frame) == 1137


@pytest.mark.network
def test_fetch_hh_rlhf_downloads_into_the_data_home(tmp_path):
    frame = fetch_hh_rlhf("harmless-base", "test", data_home=tmp_path)
    assert (tmp_path / "hh_rlhf" / "harmless-base" / "test.jsonl.gz").is_file()
    assert len(frame) == 2312


@pytest.mark.network
@pytest.mark.slow
def test_fetch_ultrafeedback_downloads_into_the_data_home(tmp_path):
    data = fetch_ultrafeedback(data_home=tmp_path)
    assert any((tmp_path / "ultrafeedback").rglob("*.jsonl*"))
    assert (tmp_path / "ultrafeedback" / ".skpref_complete").is_file()
    assert len(data.completions) > 200_000
    assert data.completions["truthfulness"].notna().mean() > 0.9


# -- fetch_ultrafeedback with a stub Hub (no network) ----------------------------


def ultrafeedback_line(instruction):
    ratings = {aspect: {"Rating": "3"} for aspect in ASPECTS}
    completions = [
        {"model": "m", "response": text, "annotations": ratings}
        for text in ("Hi", "Hello")
    ]
    return json.dumps({"instruction": instruction, "completions": completions}) + "\n"


class StubHub:
    """Stands in for huggingface_hub: snapshot_download writes the missing file."""

    def __init__(self, fail=False):
        self.calls = []
        self.fail = fail

    def snapshot_download(self, repo_id, **kwargs):
        self.calls.append((repo_id, kwargs))
        if self.fail:
            raise ConnectionError("the connection dropped")
        Path(kwargs["local_dir"], "sharegpt.jsonl").write_text(ultrafeedback_line("B"))
        return str(kwargs["local_dir"])


@pytest.fixture
def interrupted_home(tmp_path, monkeypatch):
    """A data home left by an interrupted download: one of two files, no marker."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    folder = tmp_path / "ultrafeedback"
    folder.mkdir()
    (folder / "evol_instruct.jsonl").write_text(ultrafeedback_line("A"))
    return tmp_path


def use_hub(monkeypatch, hub):
    monkeypatch.setattr(fetch_module, "_hub", lambda: hub)
    return hub


def test_fetch_ultrafeedback_resumes_an_interrupted_download(
    interrupted_home, monkeypatch
):
    hub = use_hub(monkeypatch, StubHub())
    data = fetch_ultrafeedback(data_home=interrupted_home)
    folder = interrupted_home / "ultrafeedback"
    assert [repo for repo, _ in hub.calls] == ["openbmb/UltraFeedback"]
    assert hub.calls[0][1]["local_dir"] == folder
    assert sorted(data.completions["instruction"].unique()) == ["A", "B"]
    assert (folder / ".skpref_complete").is_file()
    # finished: the next call loads what is there, without the Hub
    use_hub(monkeypatch, StubHub(fail=True))
    again = fetch_ultrafeedback(data_home=interrupted_home)
    assert len(again.completions) == len(data.completions)


def test_fetch_ultrafeedback_marks_only_a_finished_download(
    interrupted_home, monkeypatch
):
    hub = use_hub(monkeypatch, StubHub(fail=True))
    with pytest.raises(ConnectionError, match="the connection dropped"):
        fetch_ultrafeedback(data_home=interrupted_home)
    assert not (interrupted_home / "ultrafeedback" / ".skpref_complete").exists()
    with pytest.raises(ConnectionError):
        fetch_ultrafeedback(data_home=interrupted_home)
    assert len(hub.calls) == 2  # tried again, not loaded half


@pytest.mark.parametrize("variable", ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"])
def test_fetch_ultrafeedback_offline(interrupted_home, monkeypatch, variable):
    monkeypatch.setenv(variable, "1")
    hub = use_hub(monkeypatch, StubHub())
    folder = interrupted_home / "ultrafeedback"
    with pytest.raises(
        FileNotFoundError,
        match=r"no finished download in .*ultrafeedback \(no \.skpref_complete file\) "
        r"and offline mode is on.*load_ultrafeedback\(",
    ):
        fetch_ultrafeedback(data_home=interrupted_home)
    assert hub.calls == []
    # a finished copy loads offline, without the Hub
    (folder / ".skpref_complete").write_text("openbmb/UltraFeedback\n")
    data = fetch_ultrafeedback(data_home=interrupted_home)
    assert hub.calls == [] and list(data.completions["instruction"].unique()) == ["A"]
