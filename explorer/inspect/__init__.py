"""Per-layer inspection: shapes, parameters, MACs/FLOPs, memory and receptive fields."""

from explorer.inspect.collect import InputTooSmallError, InspectError
from explorer.inspect.summary import LayerRecord, Summary, human, mb, parse_input_size, summarize

__all__ = [
    "InputTooSmallError",
    "InspectError",
    "LayerRecord",
    "Summary",
    "human",
    "mb",
    "parse_input_size",
    "summarize",
]
