"""The bytes of TensorBoard event files, without the tensorboard or
protobuf packages: CRC-32C, TFRecord framing and the protobuf wire format
of the few messages a SummaryWriter writes (tensorboard's event.proto,
summary.proto, tensor.proto, the hparams, text and custom_scalars plugins'
protos; field numbers from those files).

A message is built as bytes, fields in field-number order (the order
protobuf's own serializer uses, so a record reads back identically in
tensorboard), and proto3's rule applies: a scalar field at its default (0,
0.0, "", empty bytes) is left out unless it is a member of a oneof or a
submessage that was set.

A record is: uint64 length, uint32 masked CRC-32C of the length bytes, the
data, uint32 masked CRC-32C of the data. CRC-32C (Castagnoli, reflected
polynomial 0x82F63B78) runs over numpy: a short buffer byte by byte, a long
one as 2^k equal lanes stepped together (one table lookup per lane per
step), whose CRCs are then merged pairwise: a CRC followed by n zero bytes
is a linear map of the CRC over GF(2), applied through four 256-entry
tables, so merging two lanes is that map on the left one XOR the right one.
"""
import struct

import numpy as np

_POLY = 0x82F63B78
_MASK = 0xFFFFFFFF


def _byte_table():
    crcs = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        crcs = np.where(crcs & 1, (crcs >> 1) ^ np.uint32(_POLY), crcs >> 1).astype(np.uint32)
    return crcs


_TABLE = _byte_table()
_TABLE_LIST = _TABLE.tolist()
_SHORT = 16384           # bytes below which the plain byte loop is as fast as lanes


def _raw_crc_short(data, crc):
    table = _TABLE_LIST
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def _zeros_map(crcs, tables):
    """The CRC state after n zero bytes, for each state in crcs (uint32 array)."""
    return (tables[0][crcs & 0xFF] ^ tables[1][(crcs >> 8) & 0xFF]
            ^ tables[2][(crcs >> 16) & 0xFF] ^ tables[3][crcs >> 24])


def _tables_of_columns(columns):
    """Four byte tables of a linear map given by its images of the 32 unit vectors."""
    bits = ((np.arange(256, dtype=np.uint32)[:, None] >> np.arange(8, dtype=np.uint32)) & 1).astype(bool)
    tables = []
    for byte in range(4):
        images = columns[8 * byte:8 * byte + 8]
        tables.append(np.bitwise_xor.reduce(np.where(bits, images[None, :], np.uint32(0)), axis=1))
    return tables


def _zero_bytes_columns(count):
    """Images of the 32 unit CRC states after `count` zero bytes (by squaring)."""
    result = np.uint32(1) << np.arange(32, dtype=np.uint32)       # no bytes: the identity
    power = _TABLE[result & 0xFF] ^ (result >> 8)                 # one zero byte
    while count:
        if count & 1:
            result = _zeros_map(result, _tables_of_columns(power))
        power = _zeros_map(power, _tables_of_columns(power))
        count >>= 1
    return result


def _raw_crc_long(data):
    """CRC state (initial 0, no final XOR) of a long buffer, over about sqrt(len) lanes."""
    lanes = 1 << (len(data).bit_length() // 2)
    lane_length = -(-len(data) // lanes)
    padded = np.zeros(lanes * lane_length, np.uint8)
    padded[len(padded) - len(data):] = np.frombuffer(data, np.uint8)   # leading zeros leave state 0 unchanged
    rows = padded.reshape(lanes, lane_length)
    crcs = np.zeros(lanes, np.uint32)
    for column in range(lane_length):
        crcs = _TABLE[(crcs ^ rows[:, column]) & 0xFF] ^ (crcs >> 8)
    columns = _zero_bytes_columns(lane_length)
    while len(crcs) > 1:
        tables = _tables_of_columns(columns)
        crcs = _zeros_map(crcs[0::2], tables) ^ crcs[1::2]
        columns = _zeros_map(columns, tables)                 # merged lanes are twice as long
    return int(crcs[0])


def crc32c(data):
    data = bytes(data)
    if len(data) < _SHORT:
        return _raw_crc_short(data, _MASK) ^ _MASK
    # linearity: the initial all-ones state contributes its image after len(data) zero bytes
    initial = _zeros_map(np.array([_MASK], np.uint32), _tables_of_columns(_zero_bytes_columns(len(data))))
    return (_raw_crc_long(data) ^ int(initial[0])) ^ _MASK


def masked_crc32c(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & _MASK


def tfrecord(data):
    """One TFRecord: framed and checksummed."""
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data))


# ---------------------------------------------------------------------------
# protobuf wire format

def _varint(value):
    value &= 0xFFFFFFFFFFFFFFFF          # negative int32/int64 as 64-bit two's complement
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _key(field, wire_type):
    return _varint(field << 3 | wire_type)


def varint_field(field, value, always=False):
    """int32/int64/enum/bool; left out at 0 unless `always` (oneof members)."""
    if not value and not always:
        return b""
    return _key(field, 0) + _varint(int(value))


def double_field(field, value, always=False):
    packed = struct.pack("<d", float(value))
    if packed == b"\x00" * 8 and not always:
        return b""
    return _key(field, 1) + packed


def float_field(field, value, always=False):
    packed = struct.pack("<f", float(value))
    if packed == b"\x00" * 4 and not always:
        return b""
    return _key(field, 5) + packed


def bytes_field(field, data, always=False):
    if not data and not always:
        return b""
    return _key(field, 2) + _varint(len(data)) + bytes(data)


def string_field(field, text, always=False):
    return bytes_field(field, text.encode("utf-8"), always)


def message_field(field, message):
    """A set submessage: written even when empty."""
    return bytes_field(field, message, always=True)


def packed_field(field, values, kind):
    """A packed repeated field: kind 'double', 'float' or 'varint'."""
    if len(values) == 0:
        return b""
    if kind == "double":
        payload = np.asarray(values, dtype="<f8").tobytes()
    elif kind == "float":
        payload = np.asarray(values, dtype="<f4").tobytes()
    else:
        payload = b"".join(_varint(int(v)) for v in values)
    return bytes_field(field, payload, always=True)


# ---------------------------------------------------------------------------
# messages (tensorboard.Event and what it holds)

SESSION_START = 1


def event(wall_time, step=0, file_version=None, summary=None, session_log_status=None, source_writer=None):
    body = double_field(1, wall_time) + varint_field(2, step)
    if file_version is not None:
        body += string_field(3, file_version, always=True)
    if summary is not None:
        body += message_field(5, summary)
    if session_log_status is not None:
        body += message_field(7, varint_field(1, session_log_status))
    if source_writer is not None:
        body += message_field(10, string_field(1, source_writer))
    return body


def summary(*values):
    return b"".join(message_field(1, value) for value in values)


def summary_value(tag, simple_value=None, image=None, histo=None, tensor=None, metadata=None, audio=None):
    body = string_field(1, tag)
    if simple_value is not None:
        body += float_field(2, simple_value, always=True)
    if image is not None:
        body += message_field(4, image)
    if histo is not None:
        body += message_field(5, histo)
    if audio is not None:
        body += message_field(6, audio)
    if tensor is not None:
        body += message_field(8, tensor)
    if metadata is not None:
        body += message_field(9, metadata)
    return body


def summary_metadata(plugin_name, content=b"", display_name=None, description=None):
    body = message_field(1, string_field(1, plugin_name) + bytes_field(2, content))
    return body + string_field(2, display_name or "") + string_field(3, description or "")


def histogram_proto(minimum, maximum, num, total, sum_squares, bucket_limit, bucket):
    return (double_field(1, minimum) + double_field(2, maximum) + double_field(3, num) + double_field(4, total)
            + double_field(5, sum_squares) + packed_field(6, bucket_limit, "double") + packed_field(7, bucket, "double"))


def image_proto(height, width, colorspace, encoded):
    return varint_field(1, height) + varint_field(2, width) + varint_field(3, colorspace) + bytes_field(4, encoded)


def audio_proto(sample_rate, num_channels, length_frames, encoded, content_type):
    return (float_field(1, sample_rate) + varint_field(2, num_channels) + varint_field(3, length_frames)
            + bytes_field(4, encoded) + string_field(5, content_type))


# tensorflow DataType enum values
DT_FLOAT, DT_DOUBLE, DT_INT32, DT_UINT8, DT_INT16, DT_INT8, DT_STRING = 1, 2, 3, 4, 5, 6, 7
DT_COMPLEX64, DT_INT64, DT_BOOL, DT_BFLOAT16, DT_COMPLEX128, DT_HALF = 8, 9, 10, 14, 18, 19

# TensorProto's value fields: number and packing
TENSOR_VALUE_FIELDS = {"float_val": (5, "float"), "double_val": (6, "double"), "int_val": (7, "varint"),
                       "scomplex_val": (9, "float"), "int64_val": (10, "varint"), "bool_val": (11, "varint"),
                       "dcomplex_val": (12, "double"), "half_val": (13, "varint"), "uint32_val": (16, "varint")}


def tensor_proto(dtype, shape=None, field=None, values=(), strings=()):
    """shape None: no tensor_shape; a sequence (possibly empty): that shape."""
    body = varint_field(1, dtype)
    if shape is not None:
        body += message_field(2, b"".join(message_field(2, varint_field(1, size)) for size in shape))
    number, kind = TENSOR_VALUE_FIELDS[field] if field else (0, None)
    fields = [(number, packed_field(number, values, kind))] if field else []
    fields.append((8, b"".join(bytes_field(8, s, always=True) for s in strings)))
    return body + b"".join(encoded for _, encoded in sorted(fields, key=lambda item: item[0]))
