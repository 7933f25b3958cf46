"""The quality gate's figures in words: what the subject page, the import report and the API say."""

from recognition.ml.quality import QualityPolicy
from watchlists.quality_words import face_box, quality_figures, quality_summary, similarity_words

POLICY = QualityPolicy()  # yaw ≤ 35°, pitch ≤ 30°, eyes ≥ 30 px, sharpness ≥ 40, detector ≥ 0.6

GOOD = {"inter_ocular_px": 62.4, "det_score": 0.91, "sharpness": 210.0, "yaw_deg": 2.0, "pitch_deg": -1.5,
        "roll_deg": 1.0, "brightness": 120.0, "contrast": 45.0, "bbox": [40, 30, 190, 210]}


def test_a_good_photo_reads_as_plain_sentences_without_field_names():
    assert quality_summary(GOOD, policy=POLICY) == [
        "Face 180 px tall, eyes 62 px apart (minimum 30)",
        "Facing the camera (limit 35°)",
        "Head level (limit 30°)",
        "Head upright",
        "Sharp",
        "Face clearly visible (detector 91% sure)",
        "Well lit",
        "Good contrast",
    ]


def test_a_turned_face_says_which_way_and_the_limit():
    words = quality_summary({"yaw_deg": 15.2, "pitch_deg": -12.0}, policy=POLICY)
    assert words == ["Face turned 15° towards the right of the photo (limit 35°)", "Face tilted 12° down (limit 30°)"]
    words = quality_summary({"yaw_deg": -107.264, "pitch_deg": 31.0}, policy=POLICY)
    assert words == ["Face turned 107° towards the left of the photo: more than the 35° allowed",
                     "Face tilted 31° up: more than the 30° allowed"]


def test_figures_below_the_standard_say_so_with_the_minimum():
    poor = {"inter_ocular_px": 21.0, "sharpness": 12.0, "det_score": 0.42, "brightness": 30.0, "contrast": 9.0,
            "roll_deg": -14.0}
    assert quality_summary(poor, policy=POLICY) == [
        "Face too small: eyes 21 px apart (minimum 30)",
        "Head leaning 14° sideways",
        "Too blurred (sharpness 12, minimum 40)",
        "Face not clearly visible (detector 42% sure, minimum 60%)",
        "Too dark (brightness 30 of 255, minimum 40)",
        "Too flat: low contrast (9, minimum 15)",
    ]


def test_in_between_figures_are_acceptable_but_named():
    words = quality_summary({"sharpness": 60.0, "det_score": 0.65, "brightness": 230.0}, policy=POLICY)
    assert words == ["Slightly soft but acceptable (sharpness 60, minimum 40)",
                     "Face found, but not clearly (detector 65% sure, minimum 60%)",
                     "Overexposed (brightness 230 of 255, maximum 220)"]


def test_the_limits_are_the_policy_given():
    strict = QualityPolicy(max_abs_yaw_deg=10.0, min_inter_ocular_px=80.0)
    assert quality_summary({"yaw_deg": 15.0, "inter_ocular_px": 60.0}, policy=strict) == [
        "Face too small: eyes 60 px apart (minimum 80)",
        "Face turned 15° towards the right of the photo: more than the 10° allowed"]


def test_no_figures_or_odd_values_give_no_words():
    assert quality_summary({}, policy=POLICY) == []
    assert quality_summary({"yaw_deg": "x", "sharpness": None, "det_score": True, "unknown": 3.0},
                           policy=POLICY) == []


def test_the_face_box_is_read_only_when_well_formed():
    assert face_box(GOOD) == (40, 30, 190, 210)
    for bad in ({}, {"bbox": [1, 2, 3]}, {"bbox": "40,30,190,210"}, {"bbox": [50, 30, 40, 210]}):
        assert face_box(bad) is None


def test_the_raw_figures_leave_out_the_box():
    assert quality_figures(GOOD) == {k: v for k, v in GOOD.items() if k != "bbox"}


def test_similarity_in_words_names_the_score_and_the_flagging_threshold():
    assert similarity_words(0.52, threshold=0.45) == \
        "Alike: similarity 0.52, where 0.45 or more is flagged as possibly the same person"
    assert similarity_words(0.58, threshold=0.45).startswith("Strongly alike: similarity 0.58")
    assert similarity_words(0.81, threshold=0.45).startswith("Very strongly alike: similarity 0.81")
