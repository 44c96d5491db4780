"""cgrad.utils.tensorboard.SummaryWriter: the event files it writes, read
back three ways. Torch-free: this file's own TFRecord reader (checksums
recomputed bitwise) and protobuf wire decoder, checking every field of the
records. With tensorboard: its EventAccumulator. With torch and
tensorboard: the records of torch's SummaryWriter for the same calls,
parsed with tensorboard's protos, compared field for field (wall times
aside), images by their decoded pixels."""
import glob
import io
import os
import re
import shutil
import socket
import struct
import zlib

import numpy as np
import pytest

import cgrad
from cgrad.utils.tensorboard import SummaryWriter
from cgrad.utils.tensorboard._records import crc32c
from helpers import torch

try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.compat.proto import event_pb2
except ImportError:
    event_pb2 = EventAccumulator = None
requires_tensorboard = pytest.mark.skipif(event_pb2 is None, reason="tensorboard (a second reader) not installed")
requires_torch_writer = pytest.mark.skipif(torch is None or event_pb2 is None,
                                           reason="torch and tensorboard (torch's SummaryWriter) not installed")


# ---------------------------------------------------------------------------
# an independent reader

def _bitwise_crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def _masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_records(path, check_crc=True):
    data = open(path, "rb").read()
    records, position = [], 0
    while position < len(data):
        header = data[position:position + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[position + 8:position + 12])
        body = data[position + 12:position + 12 + length]
        (body_crc,) = struct.unpack("<I", data[position + 12 + length:position + 16 + length])
        if check_crc:
            assert header_crc == _masked(_bitwise_crc32c(header))
            assert body_crc == _masked(_bitwise_crc32c(body)) if length < 20000 else _masked(crc32c(body))
        records.append(body)
        position += 16 + length
    return records


def decode(message):
    """protobuf wire format -> {field number: [values]} (varints as ints,
    64/32-bit fields as raw bytes, length-delimited as bytes)."""
    fields, position = {}, 0

    def varint():
        nonlocal position
        result = shift = 0
        while True:
            byte = message[position]
            position += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result

    while position < len(message):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            value = varint()
        elif wire == 1:
            value, position = message[position:position + 8], position + 8
        elif wire == 5:
            value, position = message[position:position + 4], position + 4
        else:
            length = varint()
            value, position = message[position:position + length], position + length
        fields.setdefault(field, []).append(value)
    return fields


def double(raw):
    return struct.unpack("<d", raw)[0]


def event_files(log_dir):
    return sorted(glob.glob(os.path.join(log_dir, "**", "events.out.tfevents.*"), recursive=True))


def summaries(path):
    """(step, tag, value fields) of each summary value in an event file."""
    out = []
    for record in read_records(path)[1:]:
        event = decode(record)
        for value in decode(event[5][0]).get(1, []) if 5 in event else []:
            value = decode(value)
            out.append((event.get(2, [0])[0], value[1][0].decode(), value))
    return out


def decode_png(data):
    """Pixels of an unfiltered 8-bit PNG (what cgrad writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        chunks.setdefault(kind, b"")
        chunks[kind] += data[position + 8:position + 8 + length]
        assert struct.unpack(">I", data[position + 8 + length:position + 12 + length])[0] == zlib.crc32(
            data[position + 4:position + 8 + length])
        position += 12 + length
    width, height, depth, color, _, _, _ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + width * channels)
    assert depth == 8 and not rows[:, 0].any()
    return rows[:, 1:].reshape(height, width, channels)


@pytest.fixture
def log_dir(tmp_path):
    return str(tmp_path / "run")


# ---------------------------------------------------------------------------
# torch-free

def test_crc32c():
    assert crc32c(b"123456789") == 0xE3069283
    rng = np.random.RandomState(0)
    for length in (0, 1, 31, 16383, 16384, 20001, 70000):
        data = rng.randint(0, 256, length).astype(np.uint8).tobytes()
        assert crc32c(data) == _bitwise_crc32c(data), length


def test_first_record_and_file_name(log_dir):
    with SummaryWriter(log_dir, filename_suffix=".v1") as writer:
        assert writer.get_logdir() == log_dir
    (path,) = event_files(log_dir)
    name = os.path.basename(path)
    assert re.fullmatch(rf"events\.out\.tfevents\.\d{{10}}\.{re.escape(socket.gethostname())}\.{os.getpid()}\.\d+\.v1",
                        name)
    (first,) = read_records(path)
    first = decode(first)
    assert first[3] == [b"brain.Event:2"] and double(first[1][0]) > 1e9
    assert decode(first[10][0])[1] == [b"cgrad.utils.tensorboard"]


def test_default_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    writer.close()
    assert re.fullmatch(r"runs/[A-Z][a-z]{2}\d\d_\d\d-\d\d-\d\d_" + re.escape(socket.gethostname()) + "_lr0.1",
                        writer.get_logdir().replace(os.sep, "/"))
    assert len(event_files(writer.get_logdir())) == 1


def test_scalars(log_dir):
    with SummaryWriter(log_dir) as writer:
        for step in range(3):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_scalar("zero", 0.0, 7, walltime=123.5)
        writer.add_scalar("tensor", cgrad.tensor(2.5, requires_grad=True) * 2, 8)
        writer.add_scalar("array", np.array([[4.0]]), 9)
        writer.add_scalar("new", 1.5, 10, new_style=True, double_precision=True)
        with pytest.raises(AssertionError, match="Tensor should contain one element"):
            writer.add_scalar("bad", np.ones(2))
    records = summaries(event_files(log_dir)[0])
    assert double(decode(read_records(event_files(log_dir)[0])[4])[1][0]) == 123.5
    simple = [(step, tag, struct.unpack("<f", value[2][0])[0]) for step, tag, value in records if 2 in value]
    assert simple == [(0, "loss", 1.0), (1, "loss", 0.5), (2, "loss", np.float32(1 / 3)), (7, "zero", 0.0),
                      (8, "tensor", 5.0), (9, "array", 4.0)]
    step, tag, value = records[-1]
    tensor = decode(value[8][0])
    assert (step, tag, tensor[1], double(tensor[6][0])) == (10, "new", [2], 1.5)
    assert decode(decode(value[9][0])[1][0])[1] == [b"scalars"]


def test_add_scalars_writes_one_directory_per_tag(log_dir):
    with SummaryWriter(log_dir) as writer:
        writer.add_scalars("run/14h", {"xsinx": 1.0, "xcosx": 2.0}, 0)
        writer.add_scalars("run/14h", {"xsinx": 3.0}, 1)
    layout = sorted(os.path.relpath(os.path.dirname(p), log_dir) for p in event_files(log_dir))
    assert layout == [".", "run_14h_xcosx", "run_14h_xsinx"]
    values = [(step, tag, struct.unpack("<f", v[2][0])[0])
              for step, tag, v in summaries(event_files(os.path.join(log_dir, "run_14h_xsinx"))[0])]
    assert values == [(0, "run/14h", 1.0), (1, "run/14h", 3.0)]


def test_histogram(log_dir):
    values = np.random.RandomState(0).randn(1000)
    with SummaryWriter(log_dir) as writer:
        writer.add_histogram("weights", cgrad.from_numpy(values), 3)
        writer.add_histogram("auto", values, 4, bins="auto")
        limits = writer.default_bins
    assert len(limits) == 2 * 774 + 1 and limits[774] == 0 and limits[775] == 1e-12
    (step, tag, value), (_, _, auto) = summaries(event_files(log_dir)[0])
    histo = decode(value[5][0])
    assert (step, tag) == (3, "weights")
    assert [double(histo[i][0]) for i in (1, 2, 3)] == [values.min(), values.max(), 1000.0]
    assert np.isclose(double(histo[4][0]), values.sum()) and np.isclose(double(histo[5][0]), values @ values)
    bucket_limits = np.frombuffer(histo[6][0], "<f8")
    buckets = np.frombuffer(histo[7][0], "<f8")
    assert buckets.sum() == 1000 and set(bucket_limits) <= set(limits)
    counts, edges = np.histogram(values, bins="auto")
    assert np.array_equal(np.frombuffer(decode(auto[5][0])[7][0], "<f8")[1:], counts)


def test_text_and_image(log_dir):
    pixels = np.random.RandomState(1).rand(3, 4, 5)
    with SummaryWriter(log_dir) as writer:
        writer.add_text("notes", "héllo", 2)
        writer.add_image("chw", cgrad.from_numpy(pixels), 3)
        writer.add_image("hw", pixels[0], 4, dataformats="HW")
        writer.add_images("batch", np.zeros((9, 1, 2, 2), np.uint8), 5)
    (_, text_tag, text), (_, _, chw), (_, _, hw), (_, _, batch) = summaries(event_files(log_dir)[0])
    tensor = decode(text[8][0])
    assert text_tag == "notes/text_summary" and tensor[1] == [7] and tensor[8] == ["héllo".encode()]
    assert decode(decode(text[9][0])[1][0]) == {1: [b"text"]}
    image = decode(chw[4][0])
    assert (image[1], image[2], image[3]) == ([4], [5], [3])
    expected = (pixels.transpose(1, 2, 0).astype(np.float32) * 255).clip(0, 255).astype(np.uint8)
    assert np.array_equal(decode_png(image[4][0]), expected)
    assert np.array_equal(decode_png(decode(hw[4][0])[4][0]), np.repeat(expected[:, :, :1], 3, axis=2))
    batch_image = decode(batch[4][0])
    assert (batch_image[1], batch_image[2]) == ([4], [16])        # 9 images: 8 to a row, 2 rows


def test_image_with_boxes(log_dir):
    pytest.importorskip("PIL", reason="pillow (the box drawing, as in PyTorch) not installed")
    with SummaryWriter(log_dir) as writer:
        writer.add_image_with_boxes("boxes", np.zeros((3, 12, 12)), cgrad.tensor([[2.0, 2.0, 9.0, 9.0]]), 0)
    image = decode(summaries(event_files(log_dir)[0])[0][2][4][0])
    pixels = decode_png(image[4][0])
    assert pixels.shape == (12, 12, 3) and (image[1], image[2]) == ([12], [12])
    assert pixels[2, 5].tolist() == [255, 0, 0] and pixels[5, 5].tolist() == [0, 0, 0]   # red edge, black inside


def test_audio(log_dir):
    import wave
    signal = np.sin(np.arange(100) / 5.0)
    with SummaryWriter(log_dir) as writer:
        writer.add_audio("sound", cgrad.from_numpy(signal), 1, sample_rate=16000)
    ((step, tag, value),) = summaries(event_files(log_dir)[0])
    proto = decode(value[6][0])
    assert (step, tag, struct.unpack("<f", proto[1][0])[0], proto[2], proto[3], proto[5]) == (
        1, "sound", 16000.0, [1], [100], [b"audio/wav"])
    with wave.open(io.BytesIO(proto[4][0])) as wav:
        frames = np.frombuffer(wav.readframes(100), "<i2")
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
    assert np.array_equal(frames, (signal * 32767).astype("<i2"))


def test_figure(log_dir):
    pyplot = pytest.importorskip("matplotlib.pyplot", reason="matplotlib (add_figure's renderer) not installed")
    figure = pyplot.figure(figsize=(1, 1), dpi=20)
    with SummaryWriter(log_dir) as writer:
        writer.add_figure("figure", figure, 0)
    image = decode(summaries(event_files(log_dir)[0])[0][2][4][0])
    assert (image[1], image[2], image[3]) == ([20], [20], [3])


def test_mesh(log_dir):
    vertices = np.arange(12, dtype=np.float32).reshape(1, 4, 3)
    with SummaryWriter(log_dir) as writer:
        writer.add_mesh("cloud", cgrad.from_numpy(vertices), faces=cgrad.tensor([[[0, 1, 2]]]), global_step=2)
    (_, vertex_tag, vertex), (_, face_tag, face) = summaries(event_files(log_dir)[0])
    assert (vertex_tag, face_tag) == ("cloud_VERTEX", "cloud_FACE")
    tensor = decode(vertex[8][0])
    assert np.array_equal(np.frombuffer(tensor[5][0], "<f4"), vertices.reshape(-1))
    plugin = decode(decode(vertex[9][0])[1][0])
    assert plugin[1] == [b"mesh"]
    content = decode(plugin[2][0])
    assert (content[2], content[3], content[5], content[7]) == ([b"cloud"], [1], [b"{}"], [(1 << 1) | (1 << 2)])
    assert list(content[6][0]) == [1, 4, 3]                  # shape, packed varints


def test_hparams(log_dir):
    with SummaryWriter(log_dir) as writer:
        writer.add_hparams({"lr": 0.1, "optimizer": "adam"}, {"hparam/accuracy": 0.5}, run_name="trial")
        with pytest.raises(TypeError, match="hparam_dict and metric_dict should be dictionary."):
            writer.add_hparams([], {})
    records = summaries(event_files(os.path.join(log_dir, "trial"))[0])
    tags = [tag for _, tag, _ in records]
    assert tags == ["_hparams_/experiment", "_hparams_/session_start_info", "_hparams_/session_end_info",
                    "hparam/accuracy"]
    plugin = decode(decode(records[1][2][9][0])[1][0])
    assert plugin[1] == [b"hparams"]
    start = decode(decode(plugin[2][0])[3][0])
    entries = {decode(e)[1][0]: decode(decode(e)[2][0]) for e in start[1]}
    assert double(entries[b"lr"][2][0]) == 0.1 and entries[b"optimizer"][3] == [b"adam"]


def test_purge_step_flush_close_and_reopen(log_dir):
    writer = SummaryWriter(log_dir, purge_step=5, max_queue=100)
    (path,) = event_files(log_dir)
    assert len(read_records(path)) == 1                 # queued, not written yet
    writer.add_scalar("x", 1.0, 6)
    writer.flush()
    second, third, fourth = read_records(path)[1:]
    assert decode(second)[2] == [5] and decode(second)[3] == [b"brain.Event:2"]
    assert decode(third)[2] == [5] and decode(decode(third)[7][0]) == {1: [1]}          # SessionLog START
    assert decode(fourth)[2] == [6]
    writer.close()
    writer.close()
    writer.add_scalar("x", 2.0, 7)                       # a closed writer starts a new file
    writer.close()
    assert len(event_files(log_dir)) == 2


# ---------------------------------------------------------------------------
# tensorboard's reader, torch's writer

@requires_tensorboard
def test_event_accumulator_reads_the_files(log_dir):
    with SummaryWriter(log_dir) as writer:
        for step in range(4):
            writer.add_scalar("loss", 2.0 ** -step, step)
        writer.add_histogram("w", np.arange(10.0), 1)
        writer.add_image("img", np.ones((3, 2, 2)), 1)
        writer.add_text("note", "hi", 1)
    accumulator = EventAccumulator(log_dir, size_guidance={"images": 0, "tensors": 0})
    accumulator.Reload()
    assert [(s.step, s.value) for s in accumulator.Scalars("loss")] == [(0, 1.0), (1, 0.5), (2, 0.25), (3, 0.125)]
    assert accumulator.Histograms("w")[0].histogram_value.num == 10
    (image,) = accumulator.Images("img")
    assert (image.width, image.height) == (2, 2)
    assert accumulator.Tensors("note/text_summary")[0].tensor_proto.string_val == [b"hi"]


def _same_calls(module, log_dir):
    rng = np.random.RandomState(0)
    x = rng.randn(500)
    with module.utils.tensorboard.SummaryWriter(log_dir, purge_step=2) as writer:
        for step in range(3):
            writer.add_scalar("loss", 1.0 / (step + 1), step, walltime=100.0 + step)
        writer.add_scalar("zero", 0.0, 0, walltime=1.0)
        writer.add_scalar("new", 2.5, 1, walltime=1.0, new_style=True)
        writer.add_scalar("tensor", module.tensor(3.5), 2, walltime=1.0)
        writer.add_scalars("run/x", {"a": 1, "b": 2.5}, 0, walltime=1.0)
        writer.add_histogram("h", module.from_numpy(x), 0, walltime=1.0)
        writer.add_histogram("h10", x, 1, bins=10, max_bins=3, walltime=1.0)
        writer.add_histogram("zeros", np.zeros(5), 0, walltime=1.0)
        writer.add_histogram_raw("raw", 0, 10, 5, 20, 100, [1, 2, 3], [1, 2, 2], 3, walltime=1.0)
        writer.add_text("t", "hello wörld", 0, walltime=1.0)
        writer.add_tensor("ints", module.arange(6).reshape(2, 3), 0, walltime=1.0)
        writer.add_tensor("half", module.ones(2, dtype=module.float16), 0, walltime=1.0)
        writer.add_custom_scalars({"A": {"c": ["Multiline", ["a/0", "a/1"]]}, "B": {"d": ["Margin", ["x", "y", "z"]]}})
        writer.add_pr_curve("pr", rng.randint(2, size=100), rng.rand(100), 0, walltime=1.0)
        writer.add_audio("sound", module.from_numpy(np.sin(np.arange(64) / 3.0)), 0, sample_rate=8000, walltime=1.0)
        writer.add_mesh("cloud", module.from_numpy(rng.rand(1, 4, 3).astype(np.float32)),
                        colors=module.from_numpy(rng.randint(0, 255, (1, 4, 3))),
                        faces=module.tensor([[[0, 1, 2], [1, 2, 3]]]), config_dict={"camera": {"fov": 75}},
                        global_step=3, walltime=1.0)
        for name, pixels, formats in [("chw", rng.rand(3, 5, 7), "CHW"), ("hwc", rng.rand(5, 7, 3), "HWC"),
                                      ("hw", rng.rand(5, 7), "HW"), ("rgba", rng.rand(4, 3, 3), "CHW"),
                                      ("u8", rng.randint(0, 256, (1, 4, 4)).astype(np.uint8), "CHW"),
                                      ("batch", rng.rand(10, 3, 4, 5), "NCHW")]:
            writer.add_image(name, pixels, 0, walltime=1.0, dataformats=formats)
        boxes = module.tensor([[1.0, 1.0, 10.0, 8.0], [3.0, 2.0, 12.0, 11.0]])
        writer.add_image_with_boxes("boxes", rng.rand(3, 16, 20), boxes, 0, walltime=1.0, labels=["cat", "dog"])
        writer.add_image_with_boxes("boxes2", rng.rand(16, 20, 3), boxes, 0, walltime=1.0, rescale=2,
                                    dataformats="HWC", labels="one")
        writer.add_hparams({"lr": 0.1, "bs": 4, "opt": "sgd", "flag": True, "none": None}, {"hp/acc": 0.9},
                           hparam_domain_discrete={"opt": ["sgd", "adam"]}, run_name="hp", global_step=2)


def _parsed_events(log_dir):
    from tensorboard.plugins.hparams import plugin_data_pb2
    from PIL import Image
    out = {}
    for path in event_files(log_dir):
        events = [event_pb2.Event.FromString(record) for record in read_records(path, check_crc=False)]
        decoded_pngs, hparams_data = [], []
        for event in events:
            event.wall_time = 0          # some records take the clock's (file_version, hparams, custom scalars)
            event.ClearField("source_metadata")
            for value in event.summary.value:
                if value.HasField("image"):
                    decoded_pngs.append(np.asarray(Image.open(io.BytesIO(value.image.encoded_image_string))))
                    value.image.encoded_image_string = b""
                if value.metadata.plugin_data.plugin_name == "hparams":
                    hparams_data.append(plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content))
                    value.metadata.plugin_data.content = b""
        out[os.path.relpath(os.path.dirname(path), log_dir)] = (events, decoded_pngs, hparams_data)
    return out


def _written_by_both(tmp_path, calls, read):
    """(torch's, cgrad's) files after the same calls, as `read` gives them."""
    pytest.importorskip("PIL", reason="pillow (torch's image encoder) not installed")
    import torch.utils.tensorboard  # noqa: F401  (torch loads it on demand)
    calls(torch, str(tmp_path / "torch"))
    calls(cgrad, str(tmp_path / "cgrad"))
    return read(str(tmp_path / "torch")), read(str(tmp_path / "cgrad"))


@requires_torch_writer
def test_records_match_torchs_summary_writer(tmp_path):
    theirs, mine = _written_by_both(tmp_path, _same_calls, _parsed_events)
    assert sorted(mine) == sorted(theirs) == [".", "hp", "run_x_a", "run_x_b"]
    for directory in theirs:
        (their_events, their_pngs, their_hparams), (my_events, my_pngs, my_hparams) = theirs[directory], mine[directory]
        assert len(my_events) == len(their_events)
        for their_event, my_event in zip(their_events, my_events):
            assert my_event == their_event, (directory, str(their_event)[:300])
        assert len(my_pngs) == len(their_pngs) and all(np.array_equal(a, b) for a, b in zip(my_pngs, their_pngs))
        assert my_hparams == their_hparams
    shutil.rmtree(str(tmp_path))


def _embedding_calls(module, log_dir):
    rng = np.random.RandomState(0)
    mat = rng.randn(5, 3).astype(np.float32)
    images = rng.rand(5, 3, 4, 6).astype(np.float32)
    with module.utils.tensorboard.SummaryWriter(log_dir) as writer:
        writer.add_embedding(module.from_numpy(mat), metadata=["a", 'b"q', "c\\d", "é", 5],
                             label_img=module.from_numpy(images), global_step=2, tag="my/tag")
        writer.add_embedding(mat, metadata=[[1, "x"], [2, "y"], [3, "z"], [4, "w"], [5, "v"]],
                             metadata_header=["n", "l"])
        writer.add_embedding(module.from_numpy(mat))


def _projector_files(log_dir):
    found = {}
    for root, _, names in os.walk(log_dir):
        for name in names:
            if not name.startswith("events"):
                path = os.path.join(root, name)
                found[os.path.relpath(path, log_dir)] = open(path, "rb").read()
    return found


def test_embedding_files(log_dir, capsys):
    _embedding_calls(cgrad, log_dir)
    files = _projector_files(log_dir)
    assert sorted(files) == ["00000/default/metadata.tsv", "00000/default/tensors.tsv", "00002/my%2ftag/metadata.tsv",
                             "00002/my%2ftag/sprite.png", "00002/my%2ftag/tensors.tsv", "projector_config.pbtxt"]
    assert files["00002/my%2ftag/metadata.tsv"] == 'a\nb"q\nc\\d\né\n5\n'.encode()
    assert files["00000/default/metadata.tsv"].split(b"\n")[:2] == [b"n\tl", b"1\tx"]
    rows = [[float(v) for v in line.split(b"\t")] for line in files["00000/default/tensors.tsv"].splitlines()]
    assert np.array_equal(np.float32(rows), np.random.RandomState(0).randn(5, 3).astype(np.float32))
    assert decode_png(files["00002/my%2ftag/sprite.png"]).shape == (18, 18, 3)       # 3 x 3 tiles of 4 x 6, squared
    config = files["projector_config.pbtxt"].decode()
    assert config.count("embeddings {") == 3 and 'tensor_name: "my/tag:00002"' in config
    assert 'single_image_dim: 6\n    single_image_dim: 4' in config
    assert "warning: Embedding dir exists" in capsys.readouterr().out          # the second and third share 00000/default


@requires_torch_writer
def test_embedding_files_match_torch(tmp_path):
    theirs, mine = _written_by_both(tmp_path, _embedding_calls, _projector_files)
    from PIL import Image
    assert sorted(mine) == sorted(theirs)
    for name in theirs:
        if name.endswith(".png"):
            assert np.array_equal(np.asarray(Image.open(io.BytesIO(mine[name]))),
                                  np.asarray(Image.open(io.BytesIO(theirs[name]))))
        else:
            assert mine[name] == theirs[name], name
