"""SummaryWriter and FileWriter, as torch.utils.tensorboard's, writing
TensorBoard event files without the tensorboard package.

An event file is named and begun as tensorboard's EventFileWriter does
(events.out.tfevents.<time>.<host>.<pid>.<n><suffix>; a first record with
file_version "brain.Event:2"; its source_metadata names this writer).
Records are framed as they are added and written out when max_queue of
them are pending, when flush_secs have passed since the last write, and on
flush() and close() (tensorboard writes from a background thread; here the
writing happens in the add_* call that fills the queue, so no thread
outlives the writer).

add_embedding writes the projector's files as PyTorch does (tensors.tsv,
metadata.tsv, sprite.png, projector_config.pbtxt in protobuf's text format).

Not built (they need a tracer or moviepy): add_graph, add_onnx_graph,
add_video.
"""
import math
import os
import socket
import threading
import time

import numpy as np

from cgrad.utils.tensorboard import _records as pb
from cgrad.utils.tensorboard.summary import (audio, custom_scalars, encode_png, figure_to_image, histogram,
                                             histogram_raw, hparams, image, image_boxes, make_grid, make_np, mesh,
                                             pr_curve, pr_curve_raw, scalar, tensor_proto, text)

__all__ = ["FileWriter", "SummaryWriter"]

_WRITER_NAME = "cgrad.utils.tensorboard"


class _Counter:
    """tensorboard's global per-process file counter (the <n> of file names)."""

    def __init__(self):
        self._value = 0
        self._lock = threading.Lock()

    def next(self):
        with self._lock:
            value = self._value
            self._value += 1
            return value


_file_uid = _Counter()


class EventFileWriter:
    """One event file: TFRecords of encoded tensorboard.Event messages."""

    def __init__(self, logdir, max_queue_size=10, flush_secs=120, filename_suffix=""):
        self._logdir = logdir
        os.makedirs(logdir, exist_ok=True)
        self._file_name = os.path.join(logdir, "events.out.tfevents.%010d.%s.%s.%s" % (
            time.time(), socket.gethostname(), os.getpid(), _file_uid.next())) + filename_suffix
        self._file = open(self._file_name, "wb")
        self._filename_suffix = filename_suffix
        self._max_queue_size = max_queue_size
        self._flush_secs = flush_secs
        self._pending = []
        self._last_write = time.time()
        self._lock = threading.Lock()
        self._closed = False
        self.add_event(pb.event(time.time(), file_version="brain.Event:2", source_writer=_WRITER_NAME))
        self.flush()

    def get_logdir(self):
        return self._logdir

    def add_event(self, event):
        """Queues one encoded Event message."""
        if not isinstance(event, (bytes, bytearray)):
            raise TypeError(f"Expected an event_pb2.Event proto,  but got {type(event)}")
        with self._lock:
            if self._closed:
                raise OSError("Writer is closed")
            self._pending.append(pb.tfrecord(bytes(event)))
            if len(self._pending) >= self._max_queue_size or time.time() - self._last_write > self._flush_secs:
                self._write_pending()

    def _write_pending(self):
        self._file.write(b"".join(self._pending))
        self._pending = []
        self._file.flush()
        self._last_write = time.time()

    def flush(self):
        with self._lock:
            if not self._closed:
                self._write_pending()

    def close(self):
        with self._lock:
            if not self._closed:
                self._write_pending()
                self._file.close()
                self._closed = True

    def reopen(self):
        """A closed writer starts a new event file in the same directory."""
        if self._closed:
            self.__init__(self._logdir, self._max_queue_size, self._flush_secs, self._filename_suffix)


class FileWriter:
    """Writes encoded Event and Summary messages to an event file in log_dir."""

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=""):
        log_dir = str(log_dir)
        self.event_writer = EventFileWriter(log_dir, max_queue, flush_secs, filename_suffix)

    def get_logdir(self):
        return self.event_writer.get_logdir()

    def add_event(self, event, step=None, walltime=None):
        """event: the encoded fields of an Event other than wall_time and step."""
        wall_time = time.time() if walltime is None else walltime
        head = pb.double_field(1, wall_time) + pb.varint_field(2, 0 if step is None else int(step))
        self.event_writer.add_event(head + event)

    def add_summary(self, summary, global_step=None, walltime=None):
        self.add_event(pb.message_field(5, summary), global_step, walltime)

    def flush(self):
        self.event_writer.flush()

    def close(self):
        self.event_writer.close()

    def reopen(self):
        self.event_writer.reopen()


def _tensorflow_bins():
    """PyTorch's default histogram bucket limits: +-1e-12 growing by 1.1 up to 1e20, and 0."""
    v = 1e-12
    buckets = []
    neg_buckets = []
    while v < 1e20:
        buckets.append(v)
        neg_buckets.append(-v)
        v *= 1.1
    return neg_buckets[::-1] + [0] + buckets


class SummaryWriter:
    """Writes scalars, histograms, images, text, hparams, ... to event files
    in log_dir for TensorBoard (torch.utils.tensorboard.SummaryWriter).

    Args:
        log_dir (str): where to write; default runs/CURRENT_DATETIME_HOSTNAME<comment>.
        comment (str): suffix of the default log_dir.
        purge_step (int): TensorBoard hides the events at and after this step
            written by an earlier run in log_dir.
        max_queue (int): pending events that force a write.
        flush_secs (int): seconds between writes.
        filename_suffix (str): suffix of the event file names.
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120, filename_suffix=""):
        if not log_dir:
            from datetime import datetime
            current_time = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", current_time + "_" + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = self.all_writers = None
        self._get_file_writer()
        self.default_bins = _tensorflow_bins()

    def _get_file_writer(self):
        """The writer of log_dir, a new event file if closed; a pending purge_step is written first."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                most_recent_step = self.purge_step
                self.file_writer.add_event(pb.string_field(3, "brain.Event:2", always=True), most_recent_step)
                self.file_writer.add_event(pb.message_field(7, pb.varint_field(1, pb.SESSION_START)),
                                           most_recent_step)
                self.purge_step = None
        return self.file_writer

    def get_logdir(self):
        return self.log_dir

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None):
        """The hparams plugin's records, and metric_dict's scalars, in log_dir/run_name."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        exp, ssi, sei = hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        if not run_name:
            run_name = str(time.time())
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=logdir) as w_hp:
            w_hp.file_writer.add_summary(exp, global_step)
            w_hp.file_writer.add_summary(ssi, global_step)
            w_hp.file_writer.add_summary(sei, global_step)
            for k, v in metric_dict.items():
                w_hp.add_scalar(k, v, global_step)

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        summary = scalar(tag, scalar_value, new_style=new_style, double_precision=double_precision)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Each scalar under main_tag in its own writer, in log_dir/<main_tag>_<tag>."""
        walltime = time.time() if walltime is None else walltime
        fw_logdir = self._get_file_writer().get_logdir()
        for tag, scalar_value in tag_scalar_dict.items():
            fw_tag = fw_logdir + "/" + main_tag.replace("/", "_") + "_" + tag
            if fw_tag in self.all_writers:
                fw = self.all_writers[fw_tag]
            else:
                fw = FileWriter(fw_tag, self.max_queue, self.flush_secs, self.filename_suffix)
                self.all_writers[fw_tag] = fw
            fw.add_summary(scalar(main_tag, scalar_value), global_step, walltime)

    def add_tensor(self, tag, tensor, global_step=None, walltime=None):
        self._get_file_writer().add_summary(tensor_proto(tag, tensor), global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self._get_file_writer().add_summary(histogram(tag, values, bins, max_bins=max_bins), global_step, walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,
                          global_step=None, walltime=None):
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        summary = histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        self._get_file_writer().add_summary(image(tag, img_tensor, dataformats=dataformats), global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        self._get_file_writer().add_summary(image(tag, img_tensor, dataformats=dataformats), global_step, walltime)

    def add_image_with_boxes(self, tag, img_tensor, box_tensor, global_step=None, walltime=None, rescale=1,
                             dataformats="CHW", labels=None):
        """An image with boxes drawn on it (needs pillow, as PyTorch's)."""
        if labels is not None:
            if isinstance(labels, str):
                labels = [labels]
            if len(labels) != box_tensor.shape[0]:
                labels = None
        summary = image_boxes(tag, img_tensor, box_tensor, rescale=rescale, dataformats=dataformats, labels=labels)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """A matplotlib figure (needs matplotlib), or a list of them as one grid."""
        formats = "NCHW" if isinstance(figure, list) else "CHW"
        self.add_image(tag, figure_to_image(figure, close), global_step, walltime, dataformats=formats)

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        self._get_file_writer().add_summary(audio(tag, snd_tensor, sample_rate=sample_rate), global_step, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        self._get_file_writer().add_summary(text(tag, text_string), global_step, walltime)

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127, weights=None,
                     walltime=None):
        labels, predictions = make_np(labels), make_np(predictions)
        summary = pr_curve(tag, labels, predictions, num_thresholds, weights)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_pr_curve_raw(self, tag, true_positive_counts, false_positive_counts, true_negative_counts,
                         false_negative_counts, precision, recall, global_step=None, num_thresholds=127,
                         weights=None, walltime=None):
        summary = pr_curve_raw(tag, true_positive_counts, false_positive_counts, true_negative_counts,
                               false_negative_counts, precision, recall, num_thresholds, weights)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_custom_scalars_multilinechart(self, tags, category="default", title="untitled"):
        self._get_file_writer().add_summary(custom_scalars({category: {title: ["Multiline", tags]}}))

    def add_custom_scalars_marginchart(self, tags, category="default", title="untitled"):
        if len(tags) != 3:
            raise AssertionError(f"Expected 3 tags, got {len(tags)}.")
        self._get_file_writer().add_summary(custom_scalars({category: {title: ["Margin", tags]}}))

    def add_custom_scalars(self, layout):
        self._get_file_writer().add_summary(custom_scalars(layout))

    def add_mesh(self, tag, vertices, colors=None, faces=None, config_dict=None, global_step=None, walltime=None):
        """A mesh or point cloud (B x N x 3 vertices, optional colors and faces) for the mesh plugin."""
        self._get_file_writer().add_summary(mesh(tag, vertices, colors, faces, config_dict), global_step, walltime)

    @staticmethod
    def _encode(rawstr):
        return rawstr.replace("%", f"%{ord('%'):02x}").replace("/", f"%{ord('/'):02x}").replace(
            "\\", "%%%02x" % ord("\\"))

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag="default",
                      metadata_header=None):
        """Projector data in log_dir/<step>/<tag>: the rows of mat, their labels and images."""
        mat = make_np(mat)
        if global_step is None:
            global_step = 0
        subdir = f"{str(global_step).zfill(5)}/{self._encode(tag)}"
        save_path = os.path.join(self._get_file_writer().get_logdir(), subdir)
        if os.path.exists(save_path):
            if os.path.isdir(save_path):
                print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
            else:
                raise NotADirectoryError(f"Path: `{save_path}` exists, but is a file. Cannot proceed.")
        else:
            os.makedirs(save_path)
        if metadata is not None:
            if mat.shape[0] != len(metadata):
                raise AssertionError("#labels should equal with #data points")
            _write_metadata_tsv(metadata, save_path, metadata_header)
        if label_img is not None:
            if mat.shape[0] != label_img.shape[0]:
                raise AssertionError("#images should equal with #data points")
            _write_sprite(label_img, save_path)
        if mat.ndim != 2:
            raise AssertionError("mat should be 2D, where mat.size(0) is the number of data points")
        with open(os.path.join(save_path, "tensors.tsv"), "wb") as f:
            f.write("".join("\t".join(map(str, row)) + "\n" for row in mat.tolist()).encode())
        if not hasattr(self, "_projector_config"):
            self._projector_config = []
        self._projector_config.append(_embedding_info(metadata, label_img, subdir, global_step, tag))
        with open(os.path.join(self._get_file_writer().get_logdir(), "projector_config.pbtxt"), "wb") as f:
            f.write("".join(self._projector_config).encode())

    def flush(self):
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()

    def close(self):
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()


# ---------------------------------------------------------------------------
# the embedding projector's files

def _write_metadata_tsv(metadata, save_path, metadata_header=None):
    if not metadata_header:
        lines = [str(x) for x in metadata]
    else:
        if len(metadata_header) != len(metadata[0]):
            raise AssertionError("len of header must be equal to the number of columns in metadata")
        lines = ["\t".join(str(e) for e in row) for row in [metadata_header] + metadata]
    with open(os.path.join(save_path, "metadata.tsv"), "wb") as f:
        f.write(("\n".join(lines) + "\n").encode())


def _write_sprite(label_img, save_path):
    """The label images tiled into a square PNG, as PyTorch's make_sprite."""
    nrow = math.ceil(label_img.shape[0] ** 0.5)
    grid_chw = make_grid(make_np(label_img), ncols=nrow)
    square_hwc = np.zeros((grid_chw.shape[2], grid_chw.shape[2], 3))
    grid_hwc = grid_chw.transpose(1, 2, 0)
    square_hwc[:grid_hwc.shape[0], :, :] = grid_hwc
    with open(os.path.join(save_path, "sprite.png"), "wb") as f:
        f.write(encode_png(np.uint8((square_hwc * 255).clip(0, 255))))


def _text_string(value):
    """A string in protobuf's text format (C escapes, bytes beyond ASCII in octal)."""
    escapes = {10: "\\n", 13: "\\r", 9: "\\t", 34: '\\"', 39: "\\'", 92: "\\\\"}
    return '"' + "".join(escapes.get(b, chr(b) if 32 <= b < 127 else "\\%03o" % b)
                         for b in value.encode("utf-8")) + '"'


def _embedding_info(metadata, label_img, subdir, global_step, tag):
    """One `embeddings { ... }` entry of projector_config.pbtxt (ProjectorConfig's text format)."""
    lines = [f"  tensor_name: {_text_string(f'{tag}:{str(global_step).zfill(5)}')}"]
    if metadata is not None:
        lines.append(f"  metadata_path: {_text_string(subdir + '/metadata.tsv')}")
    if label_img is not None:
        lines += ["  sprite {", f"    image_path: {_text_string(subdir + '/sprite.png')}",
                  f"    single_image_dim: {label_img.shape[3]}", f"    single_image_dim: {label_img.shape[2]}", "  }"]
    lines.append(f"  tensor_path: {_text_string(subdir + '/tensors.tsv')}")
    return "embeddings {\n" + "\n".join(lines) + "\n}\n"
