"""Packed sequences (torch.nn.utils.rnn): PackedSequence, packing a padded
batch, padding a packed one back, and padding a list of sequences.

Packing and unpacking are one index_select each (differentiable, no loop
over elements): the positions of the valid (time, row) pairs in a
time-major padded batch are worked out from the lengths in numpy, and
padding gathers from the packed rows plus one padding row."""
from collections import namedtuple
from collections.abc import Iterable

import numpy as np

import cgrad
from cgrad import _C
from cgrad.nn._named_node import named

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def _packed_sequence_init_args(data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
    if unsorted_indices is None:
        unsorted_indices = invert_permutation(sorted_indices)
    if batch_sizes is not None:
        return data, batch_sizes, sorted_indices, unsorted_indices
    if not (isinstance(data, (list, tuple)) and len(data) == 2):
        raise AssertionError("Expected data to be a list or tuple of length 2")
    return data[0], data[1], sorted_indices, unsorted_indices


class PackedSequence(_PackedSequenceBase):
    """Holds the data and list of batch_sizes of a packed sequence."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        return super().__new__(cls, *_packed_sequence_init_args(data, batch_sizes, sorted_indices,
                                                                unsorted_indices))

    def _with_data(self, data):
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._with_data(data)

    def cpu(self, *args, **kwargs):
        return self

    def pin_memory(self):
        return self._with_data(self.data.pin_memory())     # raises without an accelerator, as PyTorch's

    def double(self):
        return self.to(dtype=cgrad.float64)

    def float(self):
        return self.to(dtype=cgrad.float32)

    def half(self):
        return self.to(dtype=cgrad.float16)

    def long(self):
        return self.to(dtype=cgrad.int64)

    def int(self):
        return self.to(dtype=cgrad.int32)

    def short(self):
        return self.to(dtype=cgrad.int16)

    def char(self):
        return self.to(dtype=cgrad.int8)

    def byte(self):
        return self.to(dtype=cgrad.uint8)

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    """The inverse of a 1-D permutation tensor (None stays None)."""
    if permutation is None:
        return None
    perm = permutation.numpy()
    out = np.empty_like(perm)
    out[perm] = np.arange(perm.shape[0], dtype=perm.dtype)
    return _C.tensor(out)


def _lengths_array(lengths):
    if isinstance(lengths, cgrad.Tensor):
        return lengths.to(dtype=cgrad.int64).numpy().reshape(-1).copy()
    return np.asarray(list(lengths), dtype=np.int64).reshape(-1)


def _packed_positions(batch_sizes, batch):
    """Flat time-major positions t * batch + b of the packed rows, in packed order."""
    bs = np.asarray(batch_sizes, dtype=np.int64)
    steps = np.repeat(np.arange(bs.shape[0], dtype=np.int64), bs)
    starts = np.repeat(np.cumsum(bs) - bs, bs)
    rows = np.arange(steps.shape[0], dtype=np.int64) - starts
    return steps * batch + rows


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a Tensor containing padded sequences of variable length."""
    lens = _lengths_array(lengths)
    sorted_indices = None
    if not enforce_sorted:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = _C.tensor(order.astype(np.int64))
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    batch = input.shape[1]
    if lens.shape[0] != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.shape[0]} "
                           f"(batch_size={batch})")
    if lens.shape[0] and lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in "
                           "'lengths' that is <= 0")
    if np.any(lens[:-1] < lens[1:]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                           "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                           "to sidestep this requirement if you do not need ONNX exportability.")
    if lens.shape[0] and lens[0] > input.shape[0]:
        raise RuntimeError(f"Expected sequence length to be <= {input.shape[0]}, but got {lens[0]}")
    steps = int(lens[0]) if lens.shape[0] else 0
    batch_sizes = (lens[None, :] > np.arange(steps)[:, None]).sum(1).astype(np.int64)
    flat = input.reshape((input.shape[0] * batch,) + tuple(input.shape[2:]))
    data = flat.index_select(0, _C.tensor(_packed_positions(batch_sizes, batch)))
    return PackedSequence(named(data, "PackPaddedSequenceBackward0"), _C.tensor(batch_sizes), sorted_indices, None)


def _pad_packed_data(data, batch_sizes, total_length, padding_value):
    """(T, B, *) time-major padding of packed rows (differentiable)."""
    bs = np.asarray(batch_sizes, dtype=np.int64)
    batch = int(bs[0]) if bs.shape[0] else 0
    rows = data.shape[0]
    index = np.full(total_length * batch, rows, dtype=np.int64)
    index[_packed_positions(bs, batch)] = np.arange(rows, dtype=np.int64)
    pad_row = cgrad.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    source = cgrad.cat([data, pad_row], 0)
    # one gather straight into the (T, B) layout: a fresh tensor, not a view
    return source[_C.tensor(index.reshape(total_length, batch))]


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Pads a packed batch of variable length sequences: (padded, lengths)."""
    bs = sequence.batch_sizes.numpy()
    max_seq_length = bs.shape[0]
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {max_seq_length}")
        max_seq_length = total_length
    # PyTorch fills a padded tensor and copies the packed steps into its slices
    padded = named(_pad_packed_data(sequence.data, bs, max_seq_length, padding_value), "CopySlices")
    if batch_first:
        padded = padded.transpose(0, 1)
    lengths = (bs[None, :] > np.arange(int(bs[0]) if bs.shape[0] else 0)[:, None]).sum(1).astype(np.int64)
    lengths = _C.tensor(lengths)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        lengths = lengths.index_select(0, sequence.unsorted_indices)
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Pads a list of variable length Tensors with padding_value."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}")
    sequences = tuple(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if sequences[0].dim() == 0:
        raise RuntimeError("ArrayRef: invalid slice, N = 1; size = 0")      # ATen slices the first one's sizes
    trailing = tuple(sequences[0].shape[1:])
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        if s.dim() == len(trailing) + 1 and tuple(s.shape[1:]) != trailing:
            # ATen copies each sequence into a slice shaped as the first one: broadcast, or its error
            for d, (want, got) in enumerate(zip(trailing, s.shape[1:]), 1):
                if got not in (want, 1):
                    raise RuntimeError(f"The size of tensor a ({want}) must match the size of tensor b ({got}) at "
                                       f"non-singleton dimension {d}")
            s = s.expand((s.shape[0],) + trailing)
        extra = longest - s.shape[0]
        if extra:
            fill = cgrad.full((extra,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype)
            s = cgrad.cat([s, fill] if padding_side == "right" else [fill, s], 0)
        padded.append(s)
    # PyTorch fills a padded tensor and copies each sequence into its slice
    return named(cgrad.stack(padded, 0 if batch_first else 1), "CopySlices")


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Unpads a padded Tensor into a list of variable length Tensors."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(n)] for seq, n in zip(padded_sequences, _lengths_array(lengths))]


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of variable length Tensors."""
    lengths = _C.tensor([v.size(0) for v in sequences], dtype=cgrad.int64)
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Unpacks a PackedSequence into a list of variable length Tensors."""
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)
