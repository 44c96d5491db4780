"""Malformed and hostile checkpoint files: cgrad.load raises a clear error
and never crashes or runs code from the file (truncated zips, wrong storage
sizes, offsets past the end, pickles reaching for os.system or other
callables, bad persistent ids, garbage)."""
import io
import os
import pickle
import struct
import zipfile

import pytest

import cgrad

LOAD_ERRORS = (RuntimeError, pickle.UnpicklingError, EOFError, ValueError)


def _good_checkpoint(tmp_path):
    path = tmp_path / "good.pt"
    cgrad.save({"w": cgrad.arange(6.).reshape(2, 3)}, path)
    with zipfile.ZipFile(path) as z:
        return path, {n: z.read(n) for n in z.namelist()}


def _rewrite(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for n, d in members.items():
            z.writestr(n, d)


def _pickle_name(members):
    return [n for n in members if n.endswith("data.pkl")][0]


class _System:
    def __reduce__(self):
        return (os.system, ("touch PWNED_BY_CHECKPOINT",))


class _Eval:
    def __reduce__(self):
        return (eval, ("__import__('os').system('touch PWNED_BY_CHECKPOINT')",))


@pytest.mark.parametrize("payload", [_System(), _Eval()])
def test_pickles_that_reach_for_code_never_run_it(tmp_path, payload, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path, members = _good_checkpoint(tmp_path)
    members[_pickle_name(members)] = pickle.dumps({"w": payload}, protocol=2)
    _rewrite(path, members)
    with pytest.raises(pickle.UnpicklingError) as e:
        cgrad.load(path)
    assert "Weights only load failed" in str(e.value)
    assert ("posix.system whose module posix is blocked" in str(e.value) or "GLOBAL eval was not an allowed" in str(e.value))
    assert not (tmp_path / "PWNED_BY_CHECKPOINT").exists()
    buf = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {}):
        pickle.dump(header, buf, protocol=2)
    pickle.dump(payload, buf, protocol=2)        # the legacy format's object pickle
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        cgrad.load(buf)
    assert not (tmp_path / "PWNED_BY_CHECKPOINT").exists()


def test_allowlisted_names_cannot_be_abused(tmp_path):
    path, members = _good_checkpoint(tmp_path)
    # BUILD on an allowed class object itself, REDUCE on a non-callable, a bad persistent id
    bad_pickles = [
        b"\x80\x02ccollections\nOrderedDict\n}X\x03\x00\x00\x00fooK\x01sb.",
        b"\x80\x02X\x01\x00\x00\x00a)R.",
        b"\x80\x02X\x04\x00\x00\x00evilQ.",
        b"\x80\x02(X\x07\x00\x00\x00storageccollections\nOrderedDict\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x01tQ.",
        b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93.",
        b"\x80\x02c__builtin__\ngetattr\n.",
    ]
    for data in bad_pickles:
        members[_pickle_name(members)] = data
        _rewrite(path, members)
        with pytest.raises(pickle.UnpicklingError):
            cgrad.load(path)
    from collections import OrderedDict
    assert not hasattr(OrderedDict, "foo")


def test_wrong_sizes_and_offsets(tmp_path):
    path, members = _good_checkpoint(tmp_path)
    storage = [n for n in members if "/data/" in n][0]
    short = dict(members)
    short[storage] = members[storage][:-4]
    _rewrite(path, short)
    with pytest.raises(RuntimeError, match="holds 20 bytes, but its tensors need 24"):
        cgrad.load(path)
    data = members[_pickle_name(members)]
    # storage offset 0 -> 5: the 2x3 tensor then reaches past its 6-element storage
    assert b"K\x00K\x02K\x03\x86" in data
    members[_pickle_name(members)] = data.replace(b"K\x00K\x02K\x03\x86", b"K\x05K\x02K\x03\x86", 1)
    _rewrite(path, members)
    with pytest.raises(RuntimeError, match="setStorage: sizes \\[2, 3\\], strides \\[3, 1\\], storage offset 5, "
                                           "and itemsize 4 requiring a storage size of 44 are out of bounds "
                                           "for storage of size 24"):
        cgrad.load(path)
    members[_pickle_name(members)] = data.replace(b"K\x00K\x02K\x03\x86", b"K\x00J\x00\x00\x00\x10K\x03\x86", 1)
    _rewrite(path, members)
    with pytest.raises(RuntimeError, match="out of bounds"):
        cgrad.load(path)
    members[_pickle_name(members)] = data.replace(b"cpu", b"xpu")
    _rewrite(path, members)
    with pytest.raises(RuntimeError, match="CPU only"):
        cgrad.load(path)


def test_missing_storage_record_and_huge_numel(tmp_path):
    path, members = _good_checkpoint(tmp_path)
    storage = [n for n in members if "/data/" in n][0]
    missing = {n: d for n, d in members.items() if n != storage}
    _rewrite(path, missing)
    with pytest.raises(RuntimeError, match="failed locating file data/0"):
        cgrad.load(path)
    data = members[_pickle_name(members)]
    assert b"K\x06t" in data                    # the storage's numel, closing its persistent id
    members[_pickle_name(members)] = data.replace(b"K\x06t", b"\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x0ft", 1)
    _rewrite(path, members)
    with pytest.raises(LOAD_ERRORS):
        cgrad.load(path)


@pytest.mark.parametrize("cut", [0, 10, 100, 200, -60, -22, -1])
def test_truncated_files(tmp_path, cut):
    path, _ = _good_checkpoint(tmp_path)
    raw = path.read_bytes()
    (tmp_path / "cut.pt").write_bytes(raw[:cut] if cut else b"")
    with pytest.raises(LOAD_ERRORS + (zipfile.BadZipFile,)):
        cgrad.load(tmp_path / "cut.pt")


def test_corrupted_storage_bytes_fail_the_crc(tmp_path):
    path, _ = _good_checkpoint(tmp_path)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = [i for i in z.infolist() if "/data/" in i.filename][0]
    start = info.header_offset + 30 + struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])[0] \
        + struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])[1]
    raw[start] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(RuntimeError, match="Bad CRC-32"):
        cgrad.load(path)


@pytest.mark.parametrize("blob", [b"garbage", b"\x80\x02K\x01.", b"PK\x03\x04" + b"\x00" * 40, os.urandom(300)])
def test_garbage_is_refused(tmp_path, blob):
    path = tmp_path / "g.pt"
    path.write_bytes(blob)
    with pytest.raises(LOAD_ERRORS + (zipfile.BadZipFile,)):
        cgrad.load(path)


def test_zip_without_pickle_or_with_bad_legacy_storage_list(tmp_path):
    path = tmp_path / "z.pt"
    _rewrite(path, {"archive/other": b"x"})
    with pytest.raises(RuntimeError, match="failed locating file data.pkl"):
        cgrad.load(path)
    buf = io.BytesIO()
    cgrad.save({"w": cgrad.ones(3)}, buf, _use_new_zipfile_serialization=False)
    raw = buf.getvalue()
    with pytest.raises(RuntimeError, match="truncated"):
        cgrad.load(io.BytesIO(raw[:-5]))
    assert cgrad.load(io.BytesIO(raw))["w"].tolist() == [1.0, 1.0, 1.0]
