import zipfile

import numpy as np
import pytest

from skpref.embeddings import CacheCorruptionWarning, _cache
from skpref.embeddings._cache import (
    CacheWriter,
    EmbeddingCache,
    default_cache_dir,
    text_key,
)

SETTINGS = {"model": "m", "max_length": 8}


def _vectors(n, d=4, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def _filled_cache(tmp_path, n=5):
    cache = EmbeddingCache(tmp_path, SETTINGS)
    keys = [text_key(f"text {i}") for i in range(n)]
    vectors = _vectors(n)
    cache.write(keys, vectors)
    return cache, keys, vectors


def test_round_trip_and_partial_hits(tmp_path):
    cache, keys, vectors = _filled_cache(tmp_path)
    other = text_key("never stored")
    found = cache.lookup([*keys[:3], other])
    assert set(found) == set(keys[:3])
    for i in range(3):
        np.testing.assert_array_equal(found[keys[i]], vectors[i])
    assert cache.stored_dim() == 4


def test_text_keys_differ_for_different_specs():
    assert text_key(["a", "x"]) != text_key(["a", "y"])
    assert text_key(["chat", "x"]) != text_key(["template", "x"])
    assert text_key(["a", "x"]) == text_key(["a", "x"])


def test_settings_select_separate_folders(tmp_path):
    a = EmbeddingCache(tmp_path, {"model": "m", "max_length": 8})
    b = EmbeddingCache(tmp_path, {"model": "m", "max_length": 9})
    assert a.path != b.path
    a.write([text_key("t")], _vectors(1))
    assert b.lookup([text_key("t")]) == {}


def test_shards_hold_no_pickled_objects(tmp_path):
    cache, _, _ = _filled_cache(tmp_path)
    (shard,) = cache.path.glob("shard-*.npz")
    with np.load(shard, allow_pickle=False) as data:
        assert sorted(data.files) == ["digest", "keys", "vectors"]
        assert all(data[name].dtype != object for name in data.files)


def test_truncated_shard_is_detected_deleted_and_not_returned(tmp_path):
    cache, keys, _ = _filled_cache(tmp_path)
    (shard,) = cache.path.glob("shard-*.npz")
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    with pytest.warns(CacheCorruptionWarning, match="unreadable or corrupt"):
        assert cache.lookup(keys) == {}
    assert not shard.exists()


def test_flipped_vector_byte_fails_the_checksum(tmp_path):
    cache, keys, vectors = _filled_cache(tmp_path)
    (shard,) = cache.path.glob("shard-*.npz")
    # Rewrite the shard with one changed vector but the old digest: only the
    # SHA-256 check can catch it (the zip CRCs are recomputed and valid).
    with np.load(shard, allow_pickle=False) as data:
        keys_arr, digest = data["keys"], data["digest"]
    bad = vectors.copy()
    bad[2, 1] += 1.0
    np.savez(shard, keys=keys_arr, vectors=bad, digest=digest)
    with pytest.warns(CacheCorruptionWarning, match="checksum mismatch"):
        assert cache.lookup(keys) == {}


def test_zip_crc_catches_raw_bit_flips(tmp_path):
    cache, keys, _ = _filled_cache(tmp_path)
    (shard,) = cache.path.glob("shard-*.npz")
    with zipfile.ZipFile(shard) as z:
        info = z.getinfo("vectors.npy")
    raw = bytearray(shard.read_bytes())
    raw[info.header_offset + 200] ^= 0xFF  # inside the stored vectors
    shard.write_bytes(bytes(raw))
    with pytest.warns(CacheCorruptionWarning, match="corrupt"):
        assert cache.lookup(keys) == {}


def test_a_failed_write_leaves_no_shard_and_no_temporary(tmp_path, monkeypatch):
    cache, keys, _ = _filled_cache(tmp_path)

    def crash(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(_cache.np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        cache.write([text_key("new")], _vectors(1))
    assert len(list(cache.path.glob("shard-*.npz"))) == 1
    assert not list(cache.path.glob(".tmp-*"))
    assert len(cache.lookup(keys)) == len(keys)


def test_dimension_mismatch_is_an_error(tmp_path):
    cache, _, _ = _filled_cache(tmp_path)
    with pytest.raises(
        ValueError,
        match='settings.json.* records "dim": 4, but the model gives vectors of '
        "dimension 3",
    ):
        cache.write([text_key("x")], _vectors(1, d=3))


def test_writer_flushes_on_exception(tmp_path):
    cache = EmbeddingCache(tmp_path, SETTINGS)
    keys = [text_key(i) for i in range(3)]
    with pytest.raises(RuntimeError, match="interrupted"):
        with CacheWriter(cache, flush_every=100) as writer:
            writer.add(keys[:2], _vectors(2))
            raise RuntimeError("interrupted")
    assert set(cache.lookup(keys)) == set(keys[:2])


def test_writer_writes_a_shard_every_flush_every_texts(tmp_path):
    cache = EmbeddingCache(tmp_path, SETTINGS)
    writer = CacheWriter(cache, flush_every=2)
    writer.add([text_key(0)], _vectors(1))
    assert not list(cache.path.glob("shard-*.npz"))
    writer.add([text_key(1)], _vectors(1))
    assert len(list(cache.path.glob("shard-*.npz"))) == 1


def test_default_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("SKPREF_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "skpref" / "embeddings"
    monkeypatch.setenv("SKPREF_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine" / "embeddings"
