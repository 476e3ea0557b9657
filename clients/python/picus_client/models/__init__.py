"""Contains all the data models used in inputs/outputs"""

from .change import Change
from .change_op import ChangeOp
from .created import Created
from .item import Item
from .problem import Problem

__all__ = (
    "Change",
    "ChangeOp",
    "Created",
    "Item",
    "Problem",
)
