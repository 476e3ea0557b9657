"""Contains all the data models used in inputs/outputs"""

from .created import Created
from .item import Item
from .problem import Problem

__all__ = (
    "Created",
    "Item",
    "Problem",
)
