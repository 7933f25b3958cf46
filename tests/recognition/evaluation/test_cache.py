import numpy as np

from recognition.evaluation.cache import EmbeddingCache, FaceRecord


def test_records_round_trip_per_variant(tmp_path):
    vector = np.random.default_rng(0).normal(size=512).astype(np.float32)
    with EmbeddingCache.for_model(tmp_path / "cache", "w600k_mbf-abc") as cache:
        cache.put_many("v1", {"sha-a": FaceRecord("one_face", 1, vector, {"inter_ocular_px": 42.0}),
                              "sha-b": FaceRecord("no_face", 0, None, degrade={"scale": 0.5})})
        found = cache.get_many("v1", ["sha-a", "sha-b", "sha-c"])
        assert set(found) == {"sha-a", "sha-b"} and (cache.hits, cache.misses) == (2, 1)
        assert np.array_equal(found["sha-a"].embedding, vector) and found["sha-a"].quality == {"inter_ocular_px": 42.0}
        assert found["sha-b"].embedding is None and not found["sha-b"].has_face and found["sha-b"].degrade == {"scale": 0.5}
        assert cache.get_many("v2", ["sha-a"]) == {}  # another variant never sees these records
    assert (tmp_path / "cache" / "w600k_mbf-abc.sqlite").is_file()
    with EmbeddingCache.for_model(tmp_path / "cache", "w600k_mbf-abc") as reopened:
        assert set(reopened.get_many("v1", ["sha-a"])) == {"sha-a"}
