import math

import pytest

from medarc_inspect.healthbench.scoring import (
    bootstrap_std,
    calculate_score,
    length_adjusted,
    sample_scores,
    summarise,
    tag_keys,
)
from tests.healthbench.fixtures import WORKED


def test_reference_unit_test_scores_one_half():
    assert calculate_score([7, 5, 10, -6], [1, 0, 1, 1]) == 0.5


def test_negative_total_stays_negative_per_sample():
    assert calculate_score([5, -10], [0, 1]) == -2.0


def test_aggregate_is_clipped_after_the_mean_not_per_sample():
    two = summarise([{"overall_score": -2.0}, {"overall_score": 0.5}])
    assert two["score"] == 0.0  # clip(-0.75); per-sample clipping would give 0.25
    three = summarise([{"overall_score": v} for v in (-0.2, 0.3, 0.5)])
    assert three["score"] == pytest.approx(0.2)  # per-sample clipping would give 0.2667
    assert three["score:n_samples"] == 3


def test_per_tag_scores_of_the_spec_example():
    met = [1, 0, 1, 1, 0]
    scores = sample_scores(WORKED["rubrics"], met, WORKED["example_tags"])
    assert scores["overall_score"] == pytest.approx(0.5)
    assert scores["theme:hedging"] == pytest.approx(0.5)
    assert scores["physician_agreed_category:emergent"] == pytest.approx(0.5)
    assert scores["level:example"] == pytest.approx(0.5)
    assert scores["axis:accuracy"] == pytest.approx(1 / 7)
    assert scores["axis:completeness"] == pytest.approx(10 / 15)
    assert "axis:communication_quality" not in scores  # no positive points: absent, not 0
    assert "axis:communication_quality" not in tag_keys(WORKED["rubrics"], WORKED["example_tags"])
    summary = summarise([scores, {"overall_score": 0.0, "axis:accuracy": 0.0}])
    assert summary["axis:accuracy:n_samples"] == 2 and summary["axis:completeness:n_samples"] == 1
    assert "axis:communication_quality" not in summary


def test_a_rubric_tag_named_like_an_example_tag_keeps_its_own_score():
    rubrics = [{"criterion": "a", "points": 4, "tags": ["theme:x"]}, {"criterion": "b", "points": 6, "tags": []}]
    scores = sample_scores(rubrics, [1, 0], ["theme:x"])
    assert scores["overall_score"] == pytest.approx(0.4)
    assert scores["theme:x"] == 1.0  # the rubric tag's score wins, as upstream merges it last


def test_multi_judge_share_weights_points():
    # two judges: item 1 met by both, negative item met by one -> 7 - 3 of 7
    assert calculate_score([7, -6], [1.0, 0.5]) == pytest.approx(4 / 7)


def test_unscored_samples_are_left_out_of_every_mean():
    summary = summarise([{"overall_score": math.nan, "theme:x": math.nan}, {"overall_score": 0.4, "theme:x": 0.4}])
    assert summary["score"] == pytest.approx(0.4) and summary["score:n_samples"] == 1
    assert summary["theme:x:n_samples"] == 1


def test_seeded_bootstrap_is_reproducible_and_sensible():
    import numpy as np

    values = np.asarray([0.1, 0.9, 0.4, 0.6, -0.3, 0.8])
    assert bootstrap_std(values, 1000, 0) == bootstrap_std(values, 1000, 0)
    assert bootstrap_std(values, 1000, 0) != bootstrap_std(values, 1000, 1)
    assert 0.1 < bootstrap_std(values, 1000, 0) < 0.25  # about std / sqrt(n) = 0.15
    assert bootstrap_std(np.asarray([0.5]), 1000, 0) == 0.0


def test_length_adjustment_centre_and_clip():
    assert length_adjusted(0.5, 2000, 0.0299) == 0.5
    assert length_adjusted(0.5, 2500, 0.0299) == pytest.approx(0.4701)
    assert length_adjusted(0.01, 3000, 0.0299) == 0.0
    assert length_adjusted(0.99, 0, 0.0299) == 1.0
