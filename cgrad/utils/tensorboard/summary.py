"""Summary builders, as torch.utils.tensorboard.summary's: each returns an
encoded tensorboard.Summary message (bytes; PyTorch's return protobuf
objects), which FileWriter.add_summary accepts, so scripts that build
summaries themselves (`w.file_writer.add_summary(*hparams(...))`) still
work. The values, bins, image conversion and plugin payloads are PyTorch's
steps over numpy; images are PNG-encoded here (zlib), without pillow
(which only boxes and rescaling need, as in PyTorch).
"""
import json
import struct
import zlib

import numpy as np

from cgrad.utils.tensorboard import _records as pb

__all__ = ["hparams", "scalar", "histogram_raw", "histogram", "make_histogram", "image", "image_boxes", "draw_boxes",
           "make_image", "audio",
           "custom_scalars", "text", "tensor_proto", "pr_curve_raw", "pr_curve", "compute_curve", "make_np",
           "convert_to_HWC", "make_grid", "figure_to_image", "mesh"]


def make_np(x):
    """A cgrad tensor, numpy array or Python scalar as a numpy array (bfloat16 as float16, as PyTorch)."""
    import cgrad
    if isinstance(x, np.ndarray):
        return x
    if np.isscalar(x):
        return np.array([x])
    if isinstance(x, cgrad.Tensor):
        if x.dtype == cgrad.bfloat16:
            x = x.to(cgrad.float16)
        return x.detach().numpy()
    raise NotImplementedError(f"Got {type(x)}, but numpy array or torch tensor are expected.")


# ---------------------------------------------------------------------------
# scalars, tensors, text

def scalar(name, tensor, collections=None, new_style=False, double_precision=False):
    tensor = make_np(tensor).squeeze()
    if tensor.ndim != 0:
        raise AssertionError(f"Tensor should contain one element (0 dimensions).             Was given size: "
                             f"{tensor.size} and {tensor.ndim} dimensions.")
    value = float(tensor)
    if new_style:
        if double_precision:
            proto = pb.tensor_proto(pb.DT_DOUBLE, field="double_val", values=[value])
        else:
            proto = pb.tensor_proto(pb.DT_FLOAT, field="float_val", values=[value])
        return pb.summary(pb.summary_value(name, tensor=proto, metadata=pb.summary_metadata("scalars")))
    return pb.summary(pb.summary_value(name, simple_value=value))


def _float32_bits(values):
    """PyTorch stores a half tensor's values as the int32 bits of their float32 values."""
    return np.asarray(values, np.float32).view(np.int32)


# dtype name: (DataType, TensorProto field, conversion of the flat numpy values)
_TENSOR_TYPES = {
    "float16": (pb.DT_HALF, "half_val", _float32_bits), "bfloat16": (pb.DT_BFLOAT16, "half_val", _float32_bits),
    "float32": (pb.DT_FLOAT, "float_val", None), "float64": (pb.DT_DOUBLE, "double_val", None),
    "int8": (pb.DT_INT8, "int_val", None), "uint8": (pb.DT_UINT8, "uint32_val", None),
    "int16": (pb.DT_INT16, "int_val", None), "int32": (pb.DT_INT32, "int_val", None),
    "int64": (pb.DT_INT64, "int64_val", None), "bool": (pb.DT_BOOL, "bool_val", None),
}


def tensor_proto(tag, tensor):
    if tensor.numel() * tensor.itemsize >= 1 << 31:
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    name = str(tensor.dtype).split(".")[-1]
    if name not in _TENSOR_TYPES:
        raise ValueError(f"{tag} has unsupported tensor dtype {tensor.dtype}")
    dtype, field, convert = _TENSOR_TYPES[name]
    values = tensor.detach().float() if name == "bfloat16" else tensor.detach()
    values = values.reshape(-1).numpy()
    proto = pb.tensor_proto(dtype, shape=list(tensor.shape), field=field,
                            values=convert(values) if convert else values)
    return pb.summary(pb.summary_value(tag, metadata=pb.summary_metadata("tensor"), tensor=proto))


def text(tag, text):
    proto = pb.tensor_proto(pb.DT_STRING, shape=[1], strings=[text.encode(encoding="utf_8")])
    # TextPluginData(version=0) serializes to no bytes
    return pb.summary(pb.summary_value(tag + "/text_summary", metadata=pb.summary_metadata("text"), tensor=proto))


# ---------------------------------------------------------------------------
# histograms

def histogram_raw(name, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):
    histo = pb.histogram_proto(min, max, num, sum, sum_squares, list(bucket_limits), list(bucket_counts))
    return pb.summary(pb.summary_value(name, histo=histo))


def histogram(name, values, bins, max_bins=None):
    values = make_np(values)
    return pb.summary(pb.summary_value(name, histo=make_histogram(values.astype(float), bins, max_bins)))


def make_histogram(values, bins, max_bins=None):
    """PyTorch's bucketing: numpy's histogram, optionally merged down to
    max_bins, trimmed to the buckets between the first and last nonempty."""
    if values.size == 0:
        raise ValueError("The input has no element.")
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    num_bins = len(counts)
    if max_bins is not None and num_bins > max_bins:
        subsampling = num_bins // max_bins
        subsampling_remainder = num_bins % subsampling
        if subsampling_remainder != 0:
            counts = np.pad(counts, pad_width=[[0, subsampling - subsampling_remainder]], mode="constant",
                            constant_values=0)
        counts = counts.reshape(-1, subsampling).sum(axis=-1)
        new_limits = np.empty((counts.size + 1,), limits.dtype)
        new_limits[:-1] = limits[:-1:subsampling]
        new_limits[-1] = limits[-1]
        limits = new_limits
    cum_counts = np.cumsum(np.greater(counts, 0))
    start, end = np.searchsorted(cum_counts, [0, cum_counts[-1] - 1], side="right")
    start = int(start)
    end = int(end) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError("The histogram is empty, please file a bug report.")
    sum_sq = values.dot(values)
    return pb.histogram_proto(values.min(), values.max(), len(values), values.sum(), sum_sq, limits, counts)


# ---------------------------------------------------------------------------
# images

def make_grid(I, ncols=8):
    """N images (N, C, H, W) tiled 8 to a row into one (3, H*rows, W*cols)."""
    if not isinstance(I, np.ndarray):
        raise AssertionError("plugin error, should pass numpy array here")
    if I.shape[1] == 1:
        I = np.concatenate([I, I, I], 1)
    if I.ndim != 4 or I.shape[1] != 3:
        raise AssertionError("Input should be a 4D numpy array with 3 channels")
    nimg, H, W = I.shape[0], I.shape[2], I.shape[3]
    ncols = min(nimg, ncols)
    nrows = int(np.ceil(float(nimg) / ncols))
    canvas = np.zeros((3, H * nrows, W * ncols), dtype=I.dtype)
    padded = np.concatenate([I, np.zeros((nrows * ncols - nimg,) + I.shape[1:], I.dtype)])
    tiles = padded.reshape(nrows, ncols, 3, H, W).transpose(2, 0, 3, 1, 4)
    canvas[:] = tiles.reshape(3, H * nrows, W * ncols)
    return canvas


def convert_to_HWC(tensor, input_format):
    if len(set(input_format)) != len(input_format):
        raise AssertionError(f"You can not use the same dimension shorthand twice.             input_format: "
                             f"{input_format}")
    if len(tensor.shape) != len(input_format):
        raise AssertionError(f"size of input tensor and input format are different.         tensor shape: "
                             f"{tensor.shape}, input_format: {input_format}")
    input_format = input_format.upper()
    if len(input_format) == 4:
        index = [input_format.find(c) for c in "NCHW"]
        return make_grid(tensor.transpose(index)).transpose(1, 2, 0)
    if len(input_format) == 3:
        index = [input_format.find(c) for c in "HWC"]
        tensor_HWC = tensor.transpose(index)
        if tensor_HWC.shape[2] == 1:
            tensor_HWC = np.concatenate([tensor_HWC, tensor_HWC, tensor_HWC], 2)
        return tensor_HWC
    if len(input_format) == 2:
        index = [input_format.find(c) for c in "HW"]
        tensor = tensor.transpose(index)
        return np.stack([tensor, tensor, tensor], 2)
    return None


_PNG_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}         # channels: grey, grey+alpha, RGB, RGBA


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def encode_png(pixels):
    """An 8-bit PNG of an (H, W, C) uint8 array, C in 1..4 (no filtering: rows as they are)."""
    height, width, channels = pixels.shape
    if channels not in _PNG_COLOR_TYPES:
        raise TypeError(f"Cannot handle this data type: (1, 1, {channels}), |u1")
    rows = np.zeros((height, 1 + width * channels), np.uint8)      # filter byte 0 (None) per row
    rows[:, 1:] = np.ascontiguousarray(pixels).reshape(height, width * channels)
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPES[channels], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
            + _png_chunk(b"IEND", b""))


def _calc_scale_factor(tensor):
    return 1 if tensor.dtype == np.uint8 else 255


def _draw_single_box(image, xmin, ymin, xmax, ymax, display_str, color="black", color_text="black", thickness=2):
    from PIL import ImageDraw, ImageFont
    font = ImageFont.load_default()
    draw = ImageDraw.Draw(image)
    left, right, top, bottom = xmin, xmax, ymin, ymax
    draw.line([(left, top), (left, bottom), (right, bottom), (right, top), (left, top)], width=thickness, fill=color)
    if display_str:
        text_bottom = bottom
        _left, _top, _right, _bottom = font.getbbox(display_str)
        text_width, text_height = _right - _left, _bottom - _top
        margin = np.ceil(0.05 * text_height)
        draw.rectangle([(left, text_bottom - text_height - 2 * margin), (left + text_width, text_bottom)], fill=color)
        draw.text((left + margin, text_bottom - text_height - margin), display_str, fill=color_text, font=font)
    return image


def draw_boxes(disp_image, boxes, labels=None):
    for i in range(boxes.shape[0]):
        disp_image = _draw_single_box(disp_image, boxes[i, 0], boxes[i, 1], boxes[i, 2], boxes[i, 3],
                                      display_str=None if labels is None else labels[i], color="Red")
    return disp_image


def make_image(tensor, rescale=1, rois=None, labels=None):
    """An Image proto of HWC uint8 pixels. Boxes and rescaling are drawn and
    resampled with pillow, as PyTorch does (its fonts and LANCZOS filter);
    the proto keeps the unscaled height and width, as PyTorch's does."""
    height, width, channel = tensor.shape
    if rescale != 1 or rois is not None:
        from PIL import Image
        picture = Image.fromarray(tensor)
        if rois is not None:
            picture = draw_boxes(picture, rois, labels=labels)
        picture = picture.resize((int(width * rescale), int(height * rescale)), Image.Resampling.LANCZOS)
        tensor = np.asarray(picture)
    return pb.image_proto(height, width, channel, encode_png(tensor))


def image(tag, tensor, rescale=1, dataformats="NCHW"):
    tensor = convert_to_HWC(make_np(tensor), dataformats)
    scale_factor = _calc_scale_factor(tensor)
    tensor = (tensor.astype(np.float32) * scale_factor).clip(0, 255).astype(np.uint8)
    return pb.summary(pb.summary_value(tag, image=make_image(tensor, rescale=rescale)))


def image_boxes(tag, tensor_image, tensor_boxes, rescale=1, dataformats="CHW", labels=None):
    """An image with boxes (N x 4: xmin, ymin, xmax, ymax) and their labels drawn on it (needs pillow)."""
    tensor_image = convert_to_HWC(make_np(tensor_image), dataformats)
    tensor_boxes = make_np(tensor_boxes)
    tensor_image = tensor_image.astype(np.float32) * _calc_scale_factor(tensor_image)
    picture = make_image(tensor_image.clip(0, 255).astype(np.uint8), rescale=rescale, rois=tensor_boxes,
                         labels=labels)
    return pb.summary(pb.summary_value(tag, image=picture))


def figure_to_image(figures, close=True):
    """A matplotlib figure (or list of them) rendered to a CHW (NCHW) uint8 array."""
    import matplotlib.backends.backend_agg as plt_backend_agg
    import matplotlib.pyplot as plt

    def render_to_rgb(figure):
        canvas = plt_backend_agg.FigureCanvasAgg(figure)
        canvas.draw()
        data = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8)
        w, h = figure.canvas.get_width_height()
        image_chw = np.moveaxis(data.reshape([h, w, 4])[:, :, 0:3], source=2, destination=0)
        if close:
            plt.close(figure)
        return image_chw
    if isinstance(figures, list):
        return np.stack([render_to_rgb(figure) for figure in figures])
    return render_to_rgb(figures)


# ---------------------------------------------------------------------------
# audio

def audio(tag, tensor, sample_rate=44100):
    """A mono signal in [-1, 1] as 16-bit WAV."""
    import io
    import wave
    array = make_np(tensor).squeeze()
    if abs(array).max() > 1:
        print("warning: audio amplitude out of range, auto clipped.")
        array = array.clip(-1, 1)
    if array.ndim != 1:
        raise AssertionError("input tensor should be 1 dimensional.")
    array = (array * np.iinfo(np.int16).max).astype("<i2")
    with io.BytesIO() as fio:
        with wave.open(fio, "wb") as wave_write:
            wave_write.setnchannels(1)
            wave_write.setsampwidth(2)
            wave_write.setframerate(sample_rate)
            wave_write.writeframes(array.data)
        audio_string = fio.getvalue()
    proto = pb.audio_proto(sample_rate, 1, array.shape[-1], audio_string, "audio/wav")
    return pb.summary(pb.summary_value(tag, audio=proto))


# ---------------------------------------------------------------------------
# plugins: hparams, custom scalars, PR curves

_HPARAMS_PLUGIN = "hparams"
_DATA_TYPE_FLOAT64, _DATA_TYPE_STRING, _DATA_TYPE_BOOL = 3, 1, 2
_STATUS_SUCCESS = 1


def _struct_value(value):
    """google.protobuf.Value of a number, string or bool (oneof: always written)."""
    if isinstance(value, str):
        return pb.string_field(3, value, always=True)
    if isinstance(value, bool):
        return pb.varint_field(4, value, always=True)
    return pb.double_field(2, value, always=True)


def _hparams_summary(tag, plugin_payload):
    content = plugin_payload                      # HParamsPluginData, version 0 (omitted)
    return pb.summary(pb.summary_value(tag, metadata=pb.summary_metadata(_HPARAMS_PLUGIN, content)))


def hparams(hparam_dict=None, metric_dict=None, hparam_domain_discrete=None):
    """(experiment, session start, session end) summaries of the hparams plugin."""
    import cgrad
    if not isinstance(hparam_dict, dict):
        raise TypeError("parameter: hparam_dict should be a dictionary, nothing logged.")
    if not isinstance(metric_dict, dict):
        raise TypeError("parameter: metric_dict should be a dictionary, nothing logged.")
    hparam_domain_discrete = hparam_domain_discrete or {}
    if not isinstance(hparam_domain_discrete, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for k, v in hparam_domain_discrete.items():
        if k not in hparam_dict or not isinstance(v, list) or not all(isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of same type as hparam_dict[{k}].")
    infos, start_values = [], []
    for k, v in hparam_dict.items():
        if v is None:
            continue
        if isinstance(v, (int, float)):         # bools too, as in PyTorch (bool is an int)
            number = float(v)
            kind = _DATA_TYPE_FLOAT64
            start_values.append((k, pb.double_field(2, number, always=True)))
            domain = [pb.double_field(2, d, always=True) for d in hparam_domain_discrete.get(k, ())]
        elif isinstance(v, str):
            kind = _DATA_TYPE_STRING
            start_values.append((k, pb.string_field(3, v, always=True)))
            domain = [pb.string_field(3, d, always=True) for d in hparam_domain_discrete.get(k, ())]
        elif isinstance(v, cgrad.Tensor):
            kind, domain = _DATA_TYPE_FLOAT64, None          # PyTorch gives a tensor no domain
            start_values.append((k, pb.double_field(2, make_np(v)[0], always=True)))
        else:
            raise ValueError("value should be one of int, float, str, bool, or torch.Tensor")
        info = pb.string_field(1, k) + pb.varint_field(4, kind)
        if domain is not None and k in hparam_domain_discrete:
            info += pb.message_field(5, b"".join(pb.message_field(1, d) for d in domain))
        infos.append(info)
    session_start = b"".join(pb.message_field(1, pb.string_field(1, k, always=True) + pb.message_field(2, value))
                             for k, value in start_values)
    metrics = [pb.message_field(1, pb.string_field(2, k)) for k in metric_dict]
    experiment = b"".join(pb.message_field(4, info) for info in infos) + b"".join(pb.message_field(5, m) for m in metrics)
    exp = _hparams_summary("_hparams_/experiment", pb.message_field(2, experiment))
    ssi = _hparams_summary("_hparams_/session_start_info", pb.message_field(3, session_start))
    sei = _hparams_summary("_hparams_/session_end_info", pb.message_field(4, pb.varint_field(1, _STATUS_SUCCESS)))
    return exp, ssi, sei


def custom_scalars(layout):
    categories = []
    for k, v in layout.items():
        charts = []
        for chart_name, chart_metadata in v.items():
            tags = chart_metadata[1]
            if chart_metadata[0] == "Margin":
                if len(tags) != 3:
                    raise AssertionError("len(tags) != 3")
                series = pb.string_field(1, tags[0]) + pb.string_field(2, tags[1]) + pb.string_field(3, tags[2])
                chart = pb.string_field(1, chart_name) + pb.message_field(3, pb.message_field(1, series))
            else:
                multiline = b"".join(pb.string_field(1, tag, always=True) for tag in tags)
                chart = pb.string_field(1, chart_name) + pb.message_field(2, multiline)
            charts.append(pb.message_field(2, chart))
        categories.append(pb.message_field(2, pb.string_field(1, k) + b"".join(charts)))
    proto = pb.tensor_proto(pb.DT_STRING, shape=[], strings=[b"".join(categories)])
    return pb.summary(pb.summary_value("custom_scalars__config__", tensor=proto,
                                       metadata=pb.summary_metadata("custom_scalars")))


def _pr_curve_summary(tag, data, num_thresholds):
    content = pb.varint_field(2, num_thresholds)          # PrCurvePluginData, version 0 (omitted)
    proto = pb.tensor_proto(pb.DT_FLOAT, shape=list(data.shape), field="float_val", values=data.reshape(-1))
    return pb.summary(pb.summary_value(tag, metadata=pb.summary_metadata("pr_curves", content), tensor=proto))


def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127, weights=None):
    if num_thresholds > 127:
        num_thresholds = 127
    return _pr_curve_summary(tag, np.stack((tp, fp, tn, fn, precision, recall)), num_thresholds)


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None):
    num_thresholds = min(num_thresholds, 127)
    data = compute_curve(labels, predictions, num_thresholds=num_thresholds, weights=weights)
    return _pr_curve_summary(tag, data, num_thresholds)


def compute_curve(labels, predictions, num_thresholds=None, weights=None):
    _MINIMUM_COUNT = 1e-07
    if weights is None:
        weights = 1.0
    bucket_indices = np.int32(np.floor(predictions * (num_thresholds - 1)))
    float_labels = labels.astype(np.float64)
    histogram_range = (0, num_thresholds - 1)
    tp_buckets, _ = np.histogram(bucket_indices, bins=num_thresholds, range=histogram_range,
                                 weights=float_labels * weights)
    fp_buckets, _ = np.histogram(bucket_indices, bins=num_thresholds, range=histogram_range,
                                 weights=(1.0 - float_labels) * weights)
    tp = np.cumsum(tp_buckets[::-1])[::-1]
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(_MINIMUM_COUNT, tp + fp)
    recall = tp / np.maximum(_MINIMUM_COUNT, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


# ---------------------------------------------------------------------------
# meshes (the mesh plugin: one tensor summary per component)

_MESH_CONTENT_TYPES = {"VERTEX": 1, "FACE": 2, "COLOR": 3}


def _mesh_tensor_summary(name, display_name, description, tensor, content_type, components, json_config):
    values = make_np(tensor)
    if values.ndim != 3:
        raise ValueError("Tensor shape should be of shape BxNx3, but got %s." % str(list(values.shape)))
    content = (pb.string_field(2, name) + pb.varint_field(3, _MESH_CONTENT_TYPES[content_type])
               + pb.string_field(5, json_config) + pb.packed_field(6, list(values.shape), "varint")
               + pb.varint_field(7, components))              # MeshPluginData, version 0 (omitted)
    metadata = pb.summary_metadata("mesh", content, display_name, description)
    proto = pb.tensor_proto(pb.DT_FLOAT, shape=list(values.shape), field="float_val",
                            values=values.reshape(-1).astype(np.float32))
    return pb.summary_value(f"{name}_{content_type}", tensor=proto, metadata=metadata)


def mesh(tag, vertices, colors, faces, config_dict, display_name=None, description=None):
    """Vertices, faces and colors (each B x N x 3) for TensorBoard's mesh plugin."""
    json_config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    parts = [(t, kind) for t, kind in ((vertices, "VERTEX"), (faces, "FACE"), (colors, "COLOR")) if t is not None]
    components = 0
    for _, kind in parts:
        components |= 1 << _MESH_CONTENT_TYPES[kind]
    return pb.summary(*[_mesh_tensor_summary(tag, display_name, description, t, kind, components, json_config)
                        for t, kind in parts])
