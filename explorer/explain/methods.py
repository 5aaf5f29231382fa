"""The attribution methods' names, in the order every list shows them (no torch: the CLI's --method choices).

explorer.explain.attributions.METHODS maps each to its Attribution class (whose `name` it is) and refuses to load
if the two disagree, so this table cannot drift from the classes.
"""

METHOD_NAMES: tuple[str, ...] = ("gradcam", "guided_gradcam", "saliency", "integrated_gradients", "occlusion")
