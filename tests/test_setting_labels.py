"""One label per setting, everywhere: the fields' metadata (TrainConfig, DataSpec, Augment) name every setting in
the Train form, Compare runs' config diff and the sweep form; explorer.names keeps no second table (issue 27)."""

from __future__ import annotations

import dataclasses

import pytest

import explorer.names
from explorer.config import RECORD_LABELS, TrainConfig, field_label, setting_label
from explorer.data.spec import Augment, DataSpec


@pytest.mark.parametrize(("cls", "prefix"), [(TrainConfig, "train."), (DataSpec, "train.data."),
                                             (Augment, "train.augment.")])
def test_every_setting_has_one_label_from_its_field(cls, prefix):
    labels = {}
    for f in dataclasses.fields(cls):
        label = f.metadata.get("label")
        assert label and "_" not in label, f"{cls.__name__}.{f.name} has no readable label"
        assert setting_label(prefix + f.name) == field_label(cls, f.name) == label
        labels[f.name] = label
    assert len(set(labels.values())) == len(labels), labels  # no two settings read alike


def test_the_labels_the_issue_found_differing_are_the_form_labels():
    assert setting_label("train.backbone_lr_mult") == "Backbone LR factor"
    assert setting_label("train.pretrained") == "ImageNet weights"
    assert setting_label("train.data.size") == "Images per class"
    assert setting_label("train.stages") == "Stages"


def test_record_keys_and_unknown_keys_read_as_words():
    assert setting_label("model.num_classes") == RECORD_LABELS["model.num_classes"] == "Classes"
    assert setting_label("versions.torch") == "Versions › torch"
    assert setting_label("train.some_new_field") == "Some new field"
    assert not hasattr(explorer.names, "SETTING_LABELS") and not hasattr(explorer.names, "setting_label")
