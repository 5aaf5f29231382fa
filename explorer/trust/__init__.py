"""Trust: likely label errors (cleanlab), faithfulness and sanity checks of explanations, per-image run disagreement."""
