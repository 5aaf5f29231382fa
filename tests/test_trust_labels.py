"""Label issues: seeded flips, k-fold out-of-sample ranking (a small version of the 80%-in-top-4% goal),
the cache, the exclusion list in DataSpec and the bad-input messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from explorer.cli import main
from explorer.config import TrainConfig
from explorer.data import DataSpec, make_splits
from explorer.trust.labels import (
    LabelIssueSpec,
    check_folds,
    exclusion_for,
    find_issues,
    flip_labels,
    flip_recall,
)


def test_flips_are_seeded_and_change_every_chosen_label() -> None:
    labels = np.repeat(np.arange(26), 10)
    eligible = np.arange(len(labels)) < 200
    a, fa = flip_labels(labels, eligible, 0.05, seed=3, n_classes=26)
    b, fb = flip_labels(labels, eligible, 0.05, seed=3, n_classes=26)
    assert fa.sum() == 10 and np.array_equal(a, b) and np.array_equal(fa, fb)
    assert (a[fa] != labels[fa]).all() and (a[~fa] == labels[~fa]).all() and not fa[200:].any()


def test_too_few_images_for_the_folds_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="too small for 5 folds"):
        check_folds(np.array([0, 0, 0, 1, 1, 1, 1, 1, 2, 2]), 5, ["A", "B", "C"])
    with pytest.raises(ValueError, match="folds must be"):
        LabelIssueSpec(folds=1)


def test_injected_flips_rank_first_and_the_cache_is_used(tmp_path) -> None:
    spec = LabelIssueSpec(size=20, folds=3, epochs=6, inject_flips=0.05, seed=1)
    first = find_issues(spec)
    t = first.table
    train = t[t["split"] == "train"]
    assert len(t) == 26 * 20 + 26 * 10 and t["injected"].sum() == 26  # 5% of 520 training images
    assert list(t.index[:3]) == [1, 2, 3] and (t["score"].diff().dropna() <= 1e-9).all()
    # the flipped images rank far ahead of the others: most within the top 10% of the training images
    assert flip_recall(t, top=0.10) >= 0.6
    positions = np.flatnonzero(train["injected"].to_numpy())
    assert positions.mean() / len(train) < 0.15
    again = find_issues(spec)
    assert again.cached  # the second pass reads the cached probabilities
    pd.testing.assert_frame_equal(first.table, again.table)


def test_exclusion_list_is_saved_with_the_config_and_applied() -> None:
    table = pd.DataFrame({"index": [5, 7, 2, 9], "split": ["train", "test", "train", "train"]},
                         index=pd.RangeIndex(1, 5, name="rank"))
    assert exclusion_for(table, top=2) == [2, 5]
    assert exclusion_for(table, ranks=[2, 4]) == [9]  # a test image is never excluded
    spec = DataSpec(size=10, exclude=[5, 2, 2])
    cfg = TrainConfig.from_dict(TrainConfig(data=spec).to_dict())
    assert cfg.data.exclude == (2, 5) and cfg.to_dict()["data"]["exclude"] == [2, 5]
    full = make_splits(DataSpec(size=10))
    cut = make_splits(spec)
    kept = set(cut.train.indices.tolist()) | set(cut.val.indices.tolist())
    assert len(full.train) + len(full.val) - 2 == len(cut.train) + len(cut.val) and not kept & {2, 5}
    assert cut.record["excluded"] == 2 and len(cut.test) == len(full.test)


def test_exclusion_bounds_and_vanished_images() -> None:
    with pytest.raises(ValueError, match="whole numbers"):
        DataSpec(exclude=[-1])
    with pytest.raises(ValueError, match="whole numbers"):
        DataSpec(exclude=["3"])
    with pytest.raises(ValueError, match="no longer exist"):
        make_splits(DataSpec(size=10, exclude=[259, 260]))


def test_cli_label_issues_bad_input_is_one_line(tmp_path, capsys) -> None:
    assert main(["label-issues", "letters-builtin", "--size", "20", "--folds", "30", "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "folds must be" in err and "Traceback" not in err
    assert main(["label-issues", "nope", "--out", str(tmp_path / "x.csv")]) == 2
    assert "unknown dataset" in capsys.readouterr().err


def test_flagged_rows_are_the_first_ranks_never_split_among_equal_scores() -> None:
    """Issue 23: ranks 2 and 4 were flagged but not 1, 3, 5, all with score 1.000 (cleanlab's prune_by_noise_rate
    flags per class pair, not by rank). Now the first N ranks are flagged, N = cleanlab's count of wrong labels."""
    from cleanlab.count import num_label_issues

    from explorer.trust.labels import Pool, rank_issues

    rng = np.random.default_rng(0)
    true = np.repeat(np.arange(26), 20)
    labels = true.copy()
    flip = rng.choice(len(labels), 30, replace=False)
    labels[flip] = (labels[flip] + rng.integers(1, 26, 30)) % 26
    logits = rng.normal(size=(len(labels), 26))
    logits[np.arange(len(labels)), true] += 12  # confident and right: every flipped label scores about 1.000
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    n = len(labels)
    pool = Pool(np.zeros((n, 28, 28), np.uint8), labels, np.array(["train"] * n), np.arange(n),
                np.isin(np.arange(n), flip), [chr(65 + i) for i in range(26)])
    table = rank_issues(pool, probs.astype(np.float32), with_injected=True)
    flagged = table["flagged"].to_numpy()
    wrong = int(num_label_issues(labels, probs))
    assert flagged.sum() == wrong and flagged[:wrong].all() and not flagged[wrong:].any()
    assert (table["score"].iloc[:12] > 0.999).all()  # the equal scores that were split before
