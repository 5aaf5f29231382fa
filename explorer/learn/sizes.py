"""The course's output-size formula lives in explorer.design.sizes (the designer and the playground share it)."""

from explorer.design.sizes import SizeFit

__all__ = ["SizeFit"]
