"""ReduceOp as torch.distributed names it: ReduceOp.SUM is a member of the
nested RedOpType enum, and ReduceOp(RedOpType) wraps one."""
import enum


class RedOpType(enum.IntEnum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8
    UNUSED = 9

    def __repr__(self):
        return f"<RedOpType.{self.name}: {self.value}>"


RedOpType.__qualname__ = "ReduceOp.RedOpType"


class ReduceOp:
    """A reduction for all_reduce, reduce and reduce_scatter_tensor."""
    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM
    UNUSED = RedOpType.UNUSED

    def __init__(self, op=RedOpType.SUM):
        if not isinstance(op, RedOpType):
            raise TypeError(f"__init__(): incompatible constructor arguments: ReduceOp({op!r})")
        self.op = op

    def __eq__(self, other):
        if isinstance(other, ReduceOp):
            return self.op == other.op
        if isinstance(other, RedOpType):
            return self.op == other
        return NotImplemented

    def __hash__(self):
        return hash(self.op)

    def __repr__(self):
        return f"<cgrad.distributed.ReduceOp object at {id(self):#x}>"
