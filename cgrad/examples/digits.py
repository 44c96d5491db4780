"""The UCI optical-digits images shipped inside the package (data/digits.npz,
45 KB; its source and licence are in data/DIGITS_NOTICE.txt), as numpy
arrays and as a cgrad.utils.data.Dataset.

The file is read with numpy.load(allow_pickle=False): it holds two plain
uint8 arrays, so loading it can never run code.
"""
import os

import numpy as np

import cgrad
from cgrad.utils.data import Dataset

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
DIGITS_PATH = os.path.join(DATA_DIR, "digits.npz")
NOTICE_PATH = os.path.join(DATA_DIR, "DIGITS_NOTICE.txt")
N_SAMPLES, N_CLASSES, SIDE = 1797, 10, 8
MAX_PIXEL = 16


def load_digits_arrays(path=DIGITS_PATH):
    """(images uint8 (1797, 8, 8) in 0..16, labels uint8 (1797,) in 0..9),
    checked against the shapes and ranges the file must have."""
    with np.load(path, allow_pickle=False) as f:
        images, labels = f["images"], f["target"]
    if images.shape != (N_SAMPLES, SIDE, SIDE) or labels.shape != (N_SAMPLES,):
        raise ValueError(f"{path}: expected images (1797, 8, 8) and labels (1797,), "
                         f"got {images.shape} and {labels.shape}")
    if images.dtype != np.uint8 or labels.dtype != np.uint8 or images.max() > MAX_PIXEL \
            or labels.max() >= N_CLASSES:
        raise ValueError(f"{path}: pixels must be uint8 in 0..16 and labels uint8 in 0..9")
    return images, labels


class DigitsDataset(Dataset):
    """The digits as (image float32 (1, 8, 8) scaled to [0, 1], label int64)
    samples of the library `lib` (cgrad by default; torch for the side-by-side
    run): the whole set is held as two tensors, a sample is a row of each."""

    def __init__(self, lib=cgrad, path=DIGITS_PATH):
        images, labels = load_digits_arrays(path)
        scaled = images.astype(np.float32)[:, None] / np.float32(MAX_PIXEL)
        self.images = lib.tensor(scaled)
        self.labels = lib.tensor(labels.astype(np.int64))

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.images[index], self.labels[index]
