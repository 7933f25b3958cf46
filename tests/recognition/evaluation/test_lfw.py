"""A small watchlist on the real LFW dev set (../shared/data; skipped when absent)."""

from recognition.evaluation import EvaluationOptions, run_evaluation


def test_small_gallery_on_lfw_dev(lfw_dev, engine, tmp_path):
    options = EvaluationOptions(dataset=lfw_dev, gallery_size=60, seed=0, max_probes_per_identity=1,
                                limit_nonmated=80, cache_dir=tmp_path, label_fixes="lfw-dev")
    report = run_evaluation(options, engine=engine)
    assert report["gallery"] == 60 and report["mated_probes"] == 60 and report["nonmated_probes"] == 80
    assert sum(report["no_face"]["count"].values()) == 0  # every LFW image has a face at 320x320
    assert report["rank1"] >= 0.95
    assert report["at_threshold"]["0.40"]["tpir"] >= 0.9
    assert report["at_threshold"]["0.45"]["fpir"] <= 0.02
