from pathlib import Path

import pytest

from skpref.datasets import fetch_hh_rlhf, fetch_ultrafeedback, get_data_home


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
    assert len(data.completions) > 200_000
    assert data.completions["truthfulness"].notna().mean() > 0.9
