"""Answer quality at capture: how each answer arrived, and the pasted, repeat, boilerplate flags."""

from knowledge.quality.arrival import Arrival, ArrivalLog, Chunk
from knowledge.quality.boilerplate import Boilerplate, BoilerplateError, load_boilerplate
from knowledge.quality.checker import Flag, QualityChecker, flags_of
from knowledge.quality.pace import Pace, describe, duration, pace_of, pasted

__all__ = [
    "Arrival",
    "ArrivalLog",
    "Boilerplate",
    "BoilerplateError",
    "Chunk",
    "Flag",
    "Pace",
    "QualityChecker",
    "describe",
    "duration",
    "flags_of",
    "load_boilerplate",
    "pace_of",
    "pasted",
]
