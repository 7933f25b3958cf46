from recognition.evaluation import label_fixes

IMAGES = {
    "Choi_Sung-hong": ["Choi_Sung-hong/a.jpg", "Choi_Sung-hong/b.jpg"],
    "Sung_Hong_Choi": ["Sung_Hong_Choi/c.jpg"],
    "Janica_Kostelic": ["Janica_Kostelic/Janica_Kostelic_0001.jpg", "Janica_Kostelic/Janica_Kostelic_0002.jpg"],
    "Anja_Paerson": ["Anja_Paerson/Anja_Paerson_0001.jpg"],
    "Carlos_Beltran": ["Carlos_Beltran/Carlos_Beltran_0001.jpg"],
    "Other": ["Other/x.jpg"],
}


def test_bundled_lfw_fixes_merge_relabel_and_exclude():
    fixes = label_fixes.load("lfw-dev")
    fixed, summary = label_fixes.apply(IMAGES, fixes)
    assert fixed["Choi_Sung-hong"] == ["Choi_Sung-hong/a.jpg", "Choi_Sung-hong/b.jpg", "Sung_Hong_Choi/c.jpg"]
    assert "Sung_Hong_Choi" not in fixed
    # The two skiers' labels are swapped in LFW.
    assert fixed["Anja_Paerson"] == ["Janica_Kostelic/Janica_Kostelic_0001.jpg"]
    assert fixed["Janica_Kostelic"] == ["Anja_Paerson/Anja_Paerson_0001.jpg", "Janica_Kostelic/Janica_Kostelic_0002.jpg"]
    # Carlos_Beltran_0001 is Raul_Ibanez_0001 under another name: dropped, and the empty identity with it.
    assert "Carlos_Beltran" not in fixed and fixed["Other"] == ["Other/x.jpg"]
    assert summary["excluded_images"] == 1 and summary["relabelled_images"] == 2 and summary["identities_after"] == 4
    assert all(entry["why"] for key in ("merge", "relabel", "exclude") for entry in fixes[key])
