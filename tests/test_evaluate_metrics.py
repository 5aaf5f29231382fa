"""explorer.evaluate against numbers worked out by hand on a 7-sample, 3-class fixture."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score, top_k_accuracy_score

from explorer.evaluate import (
    SEED_RESULTS,
    calibration,
    confusion,
    evaluate,
    evaluate_all,
    mistakes,
    most_confused_pairs,
    pr_curves,
    roc_curves,
    seed_result_table,
    top_k_accuracy,
)

CLASSES = ["A", "B", "C"]
# sample: true, probabilities (A, B, C)     -> predicted, confidence, correct?
Y_TRUE = np.array([0, 0, 1, 1, 2, 2, 2])
Y_PROB = np.array(
    [
        [0.70, 0.20, 0.10],  # 0: true A -> A  .70  yes
        [0.30, 0.65, 0.05],  # 1: true A -> B  .65  no  (A is 2nd: top-2 yes)
        [0.10, 0.85, 0.05],  # 2: true B -> B  .85  yes
        [0.25, 0.30, 0.45],  # 3: true B -> C  .45  no  (B is 2nd: top-2 yes)
        [0.10, 0.15, 0.75],  # 4: true C -> C  .75  yes
        [0.05, 0.05, 0.90],  # 5: true C -> C  .90  yes
        [0.42, 0.33, 0.25],  # 6: true C -> A  .42  no  (C is 3rd: top-2 no)
    ]
)
# confusion (rows true, columns predicted):  A: [1 1 0]   B: [0 1 1]   C: [1 0 2]
CM = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 2]])


def test_report_by_hand():
    r = evaluate(Y_TRUE, Y_PROB, CLASSES, k=(1, 2, 3))
    np.testing.assert_array_equal(r.confusion, CM)
    assert r.n == 7
    assert r.accuracy == pytest.approx(4 / 7)
    # precision = diag / column sum: A 1/2, B 1/2, C 2/3; recall = diag / row sum: A 1/2, B 1/2, C 2/3
    # F1 = 2PR/(P+R): A 1/2, B 1/2, C 2/3
    pc = r.per_class.set_index("class")
    np.testing.assert_allclose(pc["precision"], [1 / 2, 1 / 2, 2 / 3])
    np.testing.assert_allclose(pc["recall"], [1 / 2, 1 / 2, 2 / 3])
    np.testing.assert_allclose(pc["f1"], [1 / 2, 1 / 2, 2 / 3])
    assert list(pc["support"]) == [2, 2, 3]
    # macro = plain mean over classes: (1/2 + 1/2 + 2/3) / 3 = 5/9
    assert r.precision_macro == pytest.approx(5 / 9)
    assert r.recall_macro == pytest.approx(5 / 9)
    assert r.f1_macro == pytest.approx(5 / 9)
    # weighted by support: (2*1/2 + 2*1/2 + 3*2/3) / 7 = 4/7
    assert r.precision_weighted == pytest.approx(4 / 7)
    assert r.recall_weighted == pytest.approx(4 / 7)
    assert r.f1_weighted == pytest.approx(4 / 7)
    # top-1 = accuracy; top-2: every sample but #6 -> 6/7; top-3 of 3 classes = 1
    assert r.top_k == pytest.approx({1: 4 / 7, 2: 6 / 7, 3: 1.0})
    d = r.to_dict()
    assert d["accuracy"] == pytest.approx(4 / 7) and d["confusion"] == CM.tolist()
    assert d["per_class"][2] == {"class": "C", "precision": pytest.approx(2 / 3), "recall": pytest.approx(2 / 3),
                                 "f1": pytest.approx(2 / 3), "support": 3}


def test_unequal_precision_recall():
    # true [A A A B], predicted [A A B B]: A P=2/2 R=2/3 F1=0.8; B P=1/2 R=1/1 F1=2/3
    y = np.array([0, 0, 0, 1])
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.3, 0.7]])
    r = evaluate(y, p, ["A", "B"], k=(1,))
    np.testing.assert_allclose(r.per_class["precision"], [1.0, 0.5])
    np.testing.assert_allclose(r.per_class["recall"], [2 / 3, 1.0])
    np.testing.assert_allclose(r.per_class["f1"], [0.8, 2 / 3])
    assert r.f1_macro == pytest.approx((0.8 + 2 / 3) / 2)
    assert r.f1_weighted == pytest.approx((3 * 0.8 + 1 * 2 / 3) / 4)


def test_top_k_matches_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 10, 500)
    p = rng.dirichlet(np.ones(10), 500)
    for k in (1, 3, 5):
        assert top_k_accuracy(y, p, k) == pytest.approx(top_k_accuracy_score(y, p, k=k, labels=range(10)))


def test_confusion_normalised_and_pairs():
    c = confusion(Y_TRUE, Y_PROB, CLASSES)
    np.testing.assert_array_equal(c.counts, CM)
    np.testing.assert_allclose(c.normalized[2], [1 / 3, 0, 2 / 3])
    np.testing.assert_allclose(c.normalized.sum(axis=1), 1.0)
    df = c.to_frame()
    assert len(df) == 9 and df.query("true == 'C' and predicted == 'A'")["count"].item() == 1


def test_most_confused_pairs_seed_style():
    # counts from the seed report's Xception matrix for G, I, L, Q: G->Q 51, Q->G 22, I->L 40, L->I 126
    names = ["G", "I", "L", "Q"]
    cm = np.array([[255, 0, 0, 51], [0, 292, 40, 0], [0, 126, 226, 0], [22, 0, 0, 275]])
    pairs = most_confused_pairs(cm, names, top=5)
    assert list(pairs["pair"]) == ["I↔L", "G↔Q"]
    first = pairs.iloc[0]
    assert (first.a_as_b, first.b_as_a, first.total) == (40, 126, 166)
    assert first.share == pytest.approx(166 / (332 + 352))
    assert pairs.iloc[1].a_as_b == 51 and pairs.iloc[1].b_as_a == 22


def test_mistakes_most_confident_first():
    # wrong: #1 (.65), #3 (.45), #6 (.42)
    assert list(mistakes(Y_TRUE, Y_PROB)) == [1, 3, 6]
    assert list(mistakes(Y_TRUE, Y_PROB, top=2)) == [1, 3]
    assert list(mistakes(Y_TRUE, Y_PROB, true_class=2)) == [6]
    assert list(mistakes(Y_TRUE, Y_PROB, true_class=1, pred_class=2)) == [3]
    assert list(mistakes(Y_TRUE, Y_PROB, true_class=0, pred_class=2)) == []


def test_roc_by_hand():
    # AUC = share of (positive, negative) pairs ranked right. A: positives .70,.30 vs negatives
    # .10,.25,.10,.05,.42 -> 5 + 4 of 10 = 0.9. B: .85,.30 vs .20,.65,.15,.05,.33 -> 5 + 3 = 0.8.
    # C: .75,.90,.25 vs .10,.05,.05,.45 -> 4 + 4 + 3 of 12 = 11/12.
    roc = roc_curves(Y_TRUE, Y_PROB, CLASSES)
    assert roc.area["A"] == pytest.approx(0.9)
    assert roc.area["B"] == pytest.approx(0.8)
    assert roc.area["C"] == pytest.approx(11 / 12)
    assert roc.area["macro"] == pytest.approx((0.9 + 0.8 + 11 / 12) / 3)
    assert roc.area["macro"] == pytest.approx(roc_auc_score(Y_TRUE, Y_PROB, multi_class="ovr", average="macro"))
    onehot = np.eye(3)[Y_TRUE]
    assert roc.area["micro"] == pytest.approx(roc_auc_score(onehot, Y_PROB, average="micro"))
    assert set(roc.points["curve"]) == {"A", "B", "C", "micro", "macro"}
    macro = roc.points[roc.points.curve == "macro"]
    assert macro["x"].iloc[0] == 0 and macro["x"].iloc[-1] == 1 and macro["y"].iloc[-1] == pytest.approx(1)
    assert roc.notes == []


def test_pr_average_precision():
    # class A: scores sorted .70(+) .42(-) .30(+) ... -> AP = 1/2*1 + 1/2*(2/3) = 5/6
    pr = pr_curves(Y_TRUE, Y_PROB, CLASSES)
    assert pr.area["A"] == pytest.approx(5 / 6)
    assert set(pr.points["curve"]) == {"A", "B", "C", "micro"}
    assert 0 < pr.area["micro"] <= 1
    onehot = np.eye(3)[Y_TRUE]
    assert pr.area["micro"] == pytest.approx(average_precision_score(onehot, Y_PROB, average="micro"))
    for c, name in enumerate(CLASSES):
        assert pr.area[name] == pytest.approx(average_precision_score(onehot[:, c], Y_PROB[:, c]))


def test_calibration_by_hand():
    # 5 bins (0,.2] (.2,.4] (.4,.6] (.6,.8] (.8,1]; confidences and correctness:
    # bin 2: .45 no, .42 no           -> conf .435, acc 0,   gap .435
    # bin 3: .70 yes, .65 no, .75 yes -> conf .70,  acc 2/3, gap 1/30
    # bin 4: .85 yes, .90 yes         -> conf .875, acc 1,   gap .125
    # ECE = 2/7*.435 + 3/7*(1/30) + 2/7*.125 = 1.22/7
    cal = calibration(Y_TRUE, Y_PROB, n_bins=5)
    assert list(cal.table["count"]) == [0, 0, 2, 3, 2]
    np.testing.assert_allclose(cal.table["confidence"][2:], [0.435, 0.70, 0.875])
    np.testing.assert_allclose(cal.table["accuracy"][2:], [0.0, 2 / 3, 1.0])
    assert cal.ece == pytest.approx(1.22 / 7)
    assert cal.mce == pytest.approx(0.435)
    assert math.isnan(cal.table["confidence"][0])


def test_calibration_perfect_and_bounds():
    # always-right, always-100%-sure predictions: ECE 0; confidence exactly 1.0 lands in the last bin
    y = np.array([0, 1, 2])
    cal = calibration(y, np.eye(3), n_bins=10)
    assert cal.ece == 0.0 and cal.table["count"].iloc[-1] == 3


def test_absent_class_gives_nan_not_crash():
    # class C never in y_true: ROC/AP undefined for C, a note says so; the rest still works
    y = np.array([0, 0, 1, 1])
    p = np.array([[0.8, 0.1, 0.1], [0.3, 0.3, 0.4], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1]])
    ev = evaluate_all(y, p, CLASSES)
    assert math.isnan(ev.roc.area["C"]) and "C" in ev.roc.notes[0]
    assert math.isnan(ev.pr.area["C"]) and ev.pr.notes
    assert ev.roc.area["macro"] == pytest.approx(np.mean([ev.roc.area["A"], ev.roc.area["B"]]))
    assert ev.report.per_class.set_index("class").loc["C", "support"] == 0
    assert any("absent" in n for n in ev.report.notes)
    # macro averages over the classes seen in y_true or y_pred (sklearn's default): A, B, C(predicted once)
    assert ev.report.accuracy == pytest.approx(3 / 4)


def test_ten_and_twenty_six_classes():
    rng = np.random.default_rng(0)
    for k in (10, 26):
        y = rng.integers(0, k, 300)
        p = rng.dirichlet(np.ones(k), 300)
        ev = evaluate_all(y, p, k)
        assert ev.confusion.counts.shape == (k, k)
        assert len(ev.report.per_class) == k
        assert ev.roc.area["macro"] == pytest.approx(roc_auc_score(y, p, multi_class="ovr", average="macro"))


def test_bad_input_messages():
    with pytest.raises(ValueError, match="2-D"):
        evaluate([0, 1], [0.5, 0.5])
    with pytest.raises(ValueError, match="outside"):
        evaluate([0, 3], np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="class names"):
        evaluate([0, 1], np.full((2, 3), 1 / 3), ["A", "B"])
    with pytest.raises(ValueError, match="empty"):
        evaluate(np.zeros(0, int), np.zeros((0, 3)))


def test_seed_result_table():
    r = evaluate(Y_TRUE, Y_PROB, CLASSES)
    df = seed_result_table([("my ResNet-18", r), {"model": "dict run", "accuracy": 0.9, "precision": 0.91,
                                                   "recall": 0.92, "f1": 0.93, "run_id": "abc"}])
    assert len(df) == len(SEED_RESULTS) + 2
    seed = df[df.source == "EMNIST-letters report"].set_index("model")
    assert seed.loc["ResNet-18", ["accuracy", "precision", "recall", "f1"]].tolist() == [94.17, 95.21, 95.05, 95.06]
    assert seed.loc["Xception", "accuracy"] == 85.12 and math.isnan(seed.loc["Xception", "precision"])
    assert seed.loc["DenseNet-121", "accuracy"] == 95.18
    assert seed.loc["Xception fine-tuning", ["accuracy", "precision", "recall", "f1"]].tolist() == [92.6, 92.9, 92.7, 92.7]
    assert seed.loc["DenseNet fine-tuning", ["accuracy", "precision", "recall", "f1"]].tolist() == [95.39, 95.43, 95.41, 95.4]
    assert set(seed["dataset"]) == {"emnist-letters"}
    mine = df[df.source == "your run"].set_index("model")
    assert mine.loc["my ResNet-18", "accuracy"] == pytest.approx(100 * 4 / 7)
    assert mine.loc["my ResNet-18", "precision"] == pytest.approx(100 * 5 / 9)
    assert mine.loc["dict run", "f1"] == pytest.approx(93.0) and mine.loc["dict run", "run_id"] == "abc"


def test_speed_20800_by_26():
    import time

    rng = np.random.default_rng(0)
    y = rng.integers(0, 26, 20800)
    logits = rng.normal(size=(20800, 26))
    logits[np.arange(20800), y] += 3
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    t = time.perf_counter()
    evaluate_all(y, p.astype(np.float32), 26)
    # the budget is 2 s; generous here because tests share 2 cores with other work
    assert time.perf_counter() - t < 6
