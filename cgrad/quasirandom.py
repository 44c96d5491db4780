"""cgrad.quasirandom: SobolEngine, PyTorch's (scrambled) Sobol sequence
generator, bit for bit.

The direction numbers are Joe & Kuo's (new-joe-kuo-6.21201), as PyTorch's:
cgrad/_sobol_direction_numbers.py ships them packed (tools/gen_sobol_table.py
writes it and checks it against torch), `_direction_numbers` derives the
state PyTorch's _sobol_engine_initialize_state_ does (Bratley & Fox's
recurrence, one numpy pass per polynomial degree over all dimensions of
that degree).

Drawing gives the points of PyTorch's Gray-code walk (each step XORs the
current point with the direction number of the lowest zero bit of the step
count) in closed form: the point after step count c is the start point
XOR the direction numbers at the set bits of gray(c) ^ gray(start), so n
points are a table of those XORs for the low bits, built by doubling, XOR
one row per block of high bits (see _draw), not a Python loop per point.
Results are the integer points times 2^-30 in the requested dtype, as
PyTorch computes them (a float32 point rounds the 30-bit integer first);
the first point is PyTorch's too: computed once at construction in the
then default dtype, converted to the draw's dtype.

Scrambling draws its random shift and lower-triangular matrices through
cgrad.randint with the same shapes and order as PyTorch, whose streams
cgrad reproduces, so a seeded scrambled engine draws PyTorch's points.
Scrambling each direction number is a product over GF(2): bits times the
matrix, summed (a float32 batched matmul: sums of at most 30 ones are exact)
and taken mod 2.
"""
import base64
import functools
import zlib

import numpy as np

import cgrad
from cgrad._op_support import _TYPE_NAMES, check_int

__all__ = ["SobolEngine"]

_MAXBIT = 30


@functools.lru_cache(maxsize=1)
def _table():
    """(degrees, polynomials, initial direction numbers) of all dimensions."""
    from cgrad._sobol_direction_numbers import MAXDEGREE, MAXDIM, PACKED
    payload = zlib.decompress(base64.b85decode(PACKED))
    counts = np.frombuffer(payload[:2 * MAXDEGREE], "<u2").astype(np.int64)
    bits = np.unpackbits(np.frombuffer(payload[2 * MAXDEGREE:], np.uint8)).astype(np.int64)
    degrees = np.zeros(MAXDIM, np.int64)
    poly = np.ones(MAXDIM, np.int64)
    vinit = np.zeros((MAXDIM, MAXDEGREE), np.int64)
    row, position = 1, 0
    for degree, count in enumerate(counts.tolist(), start=1):
        widths = [degree - 1] + list(range(degree))    # inner poly bits, then each m_i's upper bits
        records = bits[position:position + count * sum(widths)].reshape(count, sum(widths))
        position += count * sum(widths)
        fields, column = [], 0
        for width in widths:
            fields.append(records[:, column:column + width] @ (1 << np.arange(width - 1, -1, -1, dtype=np.int64)))
            column += width
        rows = slice(row, row + count)
        degrees[rows] = degree
        poly[rows] = (1 << degree) | (fields[0] << 1) | 1
        for i in range(degree):
            vinit[rows, i] = (fields[1 + i] << 1) | 1
        row += count
    return degrees, poly, vinit


def _direction_numbers(dimension):
    """PyTorch's sobolstate for the first `dimension` dimensions: (dimension, 30) int64."""
    degrees, poly, vinit = _table()
    state = np.zeros((dimension, _MAXBIT), np.int64)
    state[0] = 1
    for degree in range(1, vinit.shape[1] + 1):
        rows = np.nonzero(degrees[:dimension] == degree)[0]
        if not len(rows):
            continue
        rows = slice(rows[0], rows[-1] + 1)            # the table is sorted by degree
        k = np.arange(degree, dtype=np.int64)
        # v[j] = v[j-m] ^ XOR over k < m of a_k * 2^(k+1) * v[j-k-1], a_k bit m-1-k of the polynomial
        coefficients = ((poly[rows, None] >> (degree - 1 - k)) & 1) << (k + 1)
        v = state[rows]
        v[:, :degree] = vinit[rows, :degree]
        for j in range(degree, _MAXBIT):
            previous = v[:, j - degree:j][:, ::-1]              # v[j-1], v[j-2], ..., v[j-m]
            v[:, j] = v[:, j - degree] ^ np.bitwise_xor.reduce(coefficients * previous, axis=1)
        state[rows] = v
    state *= 1 << np.arange(_MAXBIT - 1, -1, -1, dtype=np.int64)
    return state


def _scramble_state(state, ltm):
    """PyTorch's _sobol_engine_scramble_: in place on state (dimension, 30)."""
    ltm = ltm.copy()
    diagonal = np.arange(_MAXBIT)
    ltm[:, diagonal, diagonal] = 1
    high_first = np.arange(_MAXBIT - 1, -1, -1, dtype=np.int64)
    state_bits = ((state[:, :, None] >> high_first[None, None, :]) & 1).astype(np.float32)
    products = np.matmul(state_bits, ltm.astype(np.float32).transpose(0, 2, 1))
    parities = products.astype(np.int64) & 1
    state[:] = parities @ (1 << high_first)


def _gray(count):
    return count ^ (count >> 1)


def _combine(state, code):
    """XOR of the direction numbers (columns of state) at the set bits of code: (dimension,)."""
    bits = np.nonzero((code >> np.arange(_MAXBIT)) & 1)[0]
    return np.bitwise_xor.reduce(state[:, bits], axis=1) if len(bits) else np.zeros(state.shape[0], np.int64)


def _gray_table(state, m):
    """Row k: the XOR of the direction numbers at the set bits of gray(k),
    for k < 2**m, built by reflection: gray(2**j + k) = 2**j | gray(2**j - 1 - k)."""
    table = np.empty((1 << m, state.shape[0]), np.int64)
    table[0] = 0
    for j in range(m):
        half = 1 << j
        np.bitwise_xor(table[half - 1::-1], state[:, j], out=table[half:2 * half])
    return table


def _check_steps(n, kernel):
    return check_int(n, kernel, "n", 2)


def _draw(quasi, n, sobolstate, dimension, num_generated, dtype):
    """PyTorch's _sobol_engine_draw: (points (n, dimension) in dtype, new quasi).

    After step count c the point is Q(c) = Q(start) ^ X(gray(start)) ^
    X(gray(c)), X the XOR of the direction numbers at a code's set bits. For
    c = hi * 2**m + lo, gray(c) = gray(hi) << m ^ gray(lo) ^ (hi & 1) << (m - 1),
    so each block of 2**m counts is one table of X(gray(lo)) XOR one row."""
    n = _check_steps(n, "_sobol_engine_draw")
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}, {dimension}]")
    if dtype not in (cgrad.float32, cgrad.float64):
        name = _TYPE_NAMES.get(str(dtype).split(".")[-1], str(dtype))
        raise NotImplementedError(f"\"_sobol_engine_draw\" not implemented for '{name}'")
    state = sobolstate.numpy()
    points = np.empty((n, dimension), np.int64)
    if n:
        m = n.bit_length() - 1                           # blocks of 2**m <= n counts: at most 3 of them
        table = _gray_table(state, m)
        offset = quasi.numpy() ^ _combine(state, _gray(num_generated))
        first, last = num_generated + 1, num_generated + n
        for hi in range(first >> m, (last >> m) + 1):
            block = hi << m
            lo_start, lo_end = max(first, block) - block, min(last, block + (1 << m) - 1) - block
            row = offset ^ _combine(state, _gray(hi) << m)
            if m and hi & 1:
                row = row ^ state[:, m - 1]
            np.bitwise_xor(table[lo_start:lo_end + 1], row, out=points[block + lo_start - first:block + lo_end - first + 1])
    new_quasi = points[-1].copy() if n else quasi.numpy().copy()
    values = points.astype(np.float32 if dtype == cgrad.float32 else np.float64)
    values *= values.dtype.type(2.0 ** -_MAXBIT)          # exact: a power of two
    return cgrad.from_numpy(values), cgrad.from_numpy(new_quasi)


def _fast_forward(quasi, n, sobolstate, num_generated):
    """PyTorch's _sobol_engine_ff_: quasi advanced n steps, in place."""
    n = _check_steps(n, "_sobol_engine_ff_")
    if n <= 0:
        return
    values = quasi.numpy()
    values ^= _combine(sobolstate.numpy(), _gray(num_generated) ^ _gray(num_generated + n))


class SobolEngine:
    r"""An engine for (scrambled) Sobol sequences, up to dimension 21201,
    drawing PyTorch's points (torch.quasirandom.SobolEngine).

    Args:
        dimension (int): the dimensionality of the sequence.
        scramble (bool, optional): draw Owen-scrambled points. Default: False.
        seed (int, optional): the seed of the scrambling; None uses the
            global generator. Default: None.
    """

    MAXBIT = _MAXBIT
    MAXDIM = 21201

    def __init__(self, dimension, scramble=False, seed=None):
        if dimension > self.MAXDIM or dimension < 1:
            raise ValueError("Supported range of dimensionality "
                             f"for SobolEngine is [1, {self.MAXDIM}]")
        self.seed = seed
        self.scramble = scramble
        self.dimension = dimension
        self.sobolstate = cgrad.zeros(dimension, self.MAXBIT, dtype=cgrad.long)
        self.sobolstate.numpy()[:] = _direction_numbers(dimension)
        if not self.scramble:
            self.shift = cgrad.zeros(self.dimension, dtype=cgrad.long)
        else:
            self._scramble()
        self.quasi = self.shift.clone(memory_format=cgrad.contiguous_format)
        self._first_point = (self.quasi / 2 ** self.MAXBIT).reshape(1, -1)
        self.num_generated = 0

    def draw(self, n=1, out=None, dtype=None):
        r"""Draws the next `n` points of the sequence: a (n, dimension) tensor."""
        if dtype is None:
            dtype = cgrad.get_default_dtype()
        if self.num_generated == 0:
            if n == 1:
                result = self._first_point.to(dtype)
            else:
                result, self.quasi = _draw(self.quasi, n - 1, self.sobolstate, self.dimension,
                                           self.num_generated, dtype)
                result = cgrad.cat((self._first_point.to(dtype), result), dim=-2)
        else:
            result, self.quasi = _draw(self.quasi, n, self.sobolstate, self.dimension,
                                       self.num_generated - 1, dtype)
        self.num_generated += n
        if out is not None:
            out.resize_as_(result).copy_(result)
            return out
        return result

    def draw_base2(self, m, out=None, dtype=None):
        r"""Draws the next 2**m points; the points drawn so far and these must
        number a power of 2 (the balance properties of Sobol' points)."""
        n = 2 ** m
        total_n = self.num_generated + n
        if not (total_n & (total_n - 1) == 0):
            raise ValueError("The balance properties of Sobol' points require "
                             f"n to be a power of 2. {self.num_generated} points have been "
                             f"previously generated, then: n={self.num_generated}+2**{m}={total_n}. "
                             "If you still want to do this, please use "
                             "'SobolEngine.draw()' instead.")
        return self.draw(n=n, out=out, dtype=dtype)

    def reset(self):
        r"""Back to the first point."""
        self.quasi.copy_(self.shift)
        self.num_generated = 0
        return self

    def fast_forward(self, n):
        r"""Skips `n` points, as drawing them would."""
        if self.num_generated == 0:
            _fast_forward(self.quasi, n - 1, self.sobolstate, self.num_generated)
        else:
            _fast_forward(self.quasi, n, self.sobolstate, self.num_generated - 1)
        self.num_generated += n
        return self

    def _scramble(self):
        generator = None
        if self.seed is not None:
            generator = cgrad.Generator()
            generator.manual_seed(self.seed)
        shift_ints = cgrad.randint(2, (self.dimension, self.MAXBIT), generator=generator)
        self.shift = cgrad.mv(shift_ints, cgrad.pow(2, cgrad.arange(0, self.MAXBIT)))
        ltm = cgrad.randint(2, (self.dimension, self.MAXBIT, self.MAXBIT), generator=generator).tril()
        _scramble_state(self.sobolstate.numpy(), ltm.numpy())

    def __repr__(self):
        fmt_string = [f"dimension={self.dimension}"]
        if self.scramble:
            fmt_string += ["scramble=True"]
        if self.seed is not None:
            fmt_string += [f"seed={self.seed}"]
        return self.__class__.__name__ + "(" + ", ".join(fmt_string) + ")"
