"""The main job (python -m cgrad.examples.train): the digits shipped in the
package, the seeded split and batches, and the script's command line,
progress, plot and side-by-side run with torch."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import cgrad
from cgrad.examples import digits, train
from helpers import requires_torch, torch

# The package under test may be an installed copy: subprocesses import the same one.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(cgrad.__file__)))


def run_training_demo(*args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "cgrad.examples.train", *args],
                          capture_output=True, text=True, timeout=600, env=env)


# --- the data -----------------------------------------------------------------------

def test_digits_are_the_uci_set_as_scikit_learn_ships_it():
    images, labels = digits.load_digits_arrays()
    assert images.shape == (1797, 8, 8) and labels.shape == (1797,)
    assert images.dtype == np.uint8 and labels.dtype == np.uint8
    # per-class counts and the first two rows of sklearn's digits.csv.gz
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert images[0].ravel().tolist() == [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0, 0, 3, 15, 2, 0,
                                          11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0, 0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11,
                                          0, 1, 12, 7, 0, 0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0]
    assert labels[:2].tolist() == [0, 1]
    assert images.max() == 16 and int(images.sum(dtype=np.int64)) == 561_718
    if "sklearn" in sys.modules or _importable("sklearn"):
        from sklearn.datasets import load_digits
        ref = load_digits()
        np.testing.assert_array_equal(images, ref.images)
        np.testing.assert_array_equal(labels, ref.target)


def _importable(name):
    import importlib.util
    return importlib.util.find_spec(name) is not None


def test_digits_ship_small_with_their_notice():
    assert os.path.getsize(digits.DIGITS_PATH) < 64 * 1024
    with open(digits.NOTICE_PATH) as f:
        notice = f.read()
    for phrase in ("Alpaydin", "CC BY 4.0", "BSD 3-Clause", "scikit-learn developers", "10.24432/C50P49"):
        assert phrase in notice


def test_digits_file_is_checked_and_never_unpickled(tmp_path):
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=np.zeros((3, 8, 8), np.uint8), target=np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="expected images"):
        digits.load_digits_arrays(str(bad))
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, images=np.array([object()], dtype=object), target=np.zeros(1, np.uint8))
    with pytest.raises(ValueError, match="allow_pickle"):
        digits.load_digits_arrays(str(pickled))


def test_digits_dataset_samples():
    ds = digits.DigitsDataset()
    assert len(ds) == 1797
    image, label = ds[0]
    assert image.shape == (1, 8, 8) and image.dtype == cgrad.float32 and label.dtype == cgrad.int64
    assert float(image.max()) == 15 / 16 and int(label) == 0
    loader = cgrad.utils.data.DataLoader(ds, batch_size=100)
    xb, yb = next(iter(loader))
    assert xb.shape == (100, 1, 8, 8) and yb.shape == (100,)


def test_split_is_seeded_disjoint_and_complete():
    train_idx, test_idx = train.split_indices(1797, 0)
    assert len(train_idx) == 1438 and len(test_idx) == 359
    assert sorted(train_idx + test_idx) == list(range(1797))
    assert train.split_indices(1797, 0) == (train_idx, test_idx)
    assert train.split_indices(1797, 1) != (train_idx, test_idx)


def test_replayed_batches_are_the_training_loaders_batches():
    ds = digits.DigitsDataset()
    sub = cgrad.utils.data.Subset(ds, list(range(0, 1797, 7)))
    loader = train.cgrad_train_loader(sub, 32, seed=5)
    replay = train.ReplayedBatches(len(sub), 32, seed=5)
    assert len(replay) == len(loader) == -(-len(sub) // 32)
    for _ in range(3):   # each epoch reshuffles, in both
        got = [yb.tolist() for _, yb in loader]
        replayed = [[int(sub[i][1]) for i in batch] for batch in replay]
        assert got == replayed
    first_epoch = [b for b in train.ReplayedBatches(len(sub), 32, seed=5)]
    assert sorted(i for b in first_epoch for i in b) == list(range(len(sub)))


def test_model_shapes():
    model = train.build_model(cgrad)
    out = model(cgrad.zeros(5, 1, 8, 8))
    assert out.shape == (5, 10)
    assert sum(p.numel() for p in model.parameters()) == 160 + 4640 + 8256 + 650


# --- the command line -----------------------------------------------------------------

def test_parse_args_defaults_quick_and_errors(capsys):
    args = train.parse_args([])
    assert (args.epochs, args.batch, args.lr, args.seed, args.compare_torch) == (15, 32, 0.003, 0, False)
    assert train.parse_args(["--quick"]).epochs == 3
    for bad in (["--epochs", "0"], ["--batch", "0"], ["--lr", "0"], ["--threads", "0"]):
        with pytest.raises(SystemExit) as e:
            train.parse_args(bad)
        assert e.value.code == 2
    assert "must be" in capsys.readouterr().err


def test_training_demo_quick_mode_learns():
    out = run_training_demo("--quick", "--no-progress")
    assert out.returncode == 0, out.stderr
    assert "UCI handwritten digits" in out.stdout and "1438 training and 359 test" in out.stdout
    row = next(line for line in out.stdout.splitlines() if line.startswith("cgrad "))
    final_loss, train_acc, test_acc = (float(v) for v in row.split()[1:4])
    # three epochs from chance (loss 2.30, accuracy 0.1) reach well above it
    assert final_loss < 0.6 and train_acc > 0.8 and test_acc > 0.8
    assert out.stderr == ""


def test_training_demo_help_shows_defaults():
    out = run_training_demo("--help")
    assert out.returncode == 0, out.stderr
    assert "--epochs EPOCHS" in out.stdout and "(default: 15)" in out.stdout
    assert "--plot FILE" in out.stdout and "(default: False)" not in out.stdout
    assert "digits" in out.stdout


def test_training_demo_progress_is_one_line_per_epoch_when_redirected():
    out = run_training_demo("--quick")
    assert out.returncode == 0, out.stderr
    assert "\r" not in out.stderr
    epoch_lines = [line for line in out.stderr.splitlines() if line.startswith("cgrad: epoch")]
    assert [line.split()[2] for line in epoch_lines] == ["1/3", "2/3", "3/3"]
    # timings are printed in a unit that shows them (no "0.00")
    row = next(line for line in out.stdout.splitlines() if line.startswith("cgrad "))
    assert re.search(r"\d+(\.\d+)? (s|ms|us) +\d+(\.\d+)? (s|ms|us)$", row), row
    assert " 0.00" not in row


def test_training_demo_plot(tmp_path):
    path = tmp_path / "curves.png"
    out = run_training_demo("--quick", "--no-progress", "--plot", str(path))
    if not _importable("matplotlib"):
        assert out.returncode == 1 and "pip install matplotlib" in out.stderr
        assert not path.exists()
        return
    assert out.returncode == 0, out.stderr
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


@requires_torch
def test_training_demo_compares_with_torch_epoch_by_epoch():
    out = run_training_demo("--quick", "--no-progress", "--compare-torch")
    assert out.returncode == 0, out.stderr
    rows = re.findall(r"^ +(\d+) +([\d.]+) +([\d.]+) +([\d.e+-]+) +([\d.]+) +([\d.]+)$", out.stdout,
                      flags=re.M)
    assert [int(r[0]) for r in rows] == [1, 2, 3]
    for _, c, t, d, acc_c, acc_t in rows:
        # same weights and batches: the first epochs agree to float32 rounding
        assert abs(float(c) - float(t)) <= 1e-5 * float(t) + 1e-6 and float(d) < 1e-5
        assert acc_c == acc_t
    m = re.search(r"test-set logits differ by at most ([\d.e+-]+) relative", out.stdout)
    assert m and float(m.group(1)) < 1e-5
    assert "largest relative loss difference" in out.stdout and "not\nin the same order" in out.stdout


@requires_torch
def test_same_batches_reach_torch_in_process():
    """The torch run's DataLoader gets exactly cgrad's shuffled batches."""
    cg = cgrad.utils.data.Subset(digits.DigitsDataset(), list(range(200)))
    th = torch.utils.data.Subset(digits.DigitsDataset(torch), list(range(200)))
    loader_c = train.cgrad_train_loader(cg, 16, seed=3)
    loader_t = torch.utils.data.DataLoader(th, batch_sampler=train.ReplayedBatches(200, 16, seed=3))
    for _ in range(2):
        for (xc, yc), (xt, yt) in zip(loader_c, loader_t, strict=True):
            np.testing.assert_array_equal(xc.numpy(), xt.numpy())
            np.testing.assert_array_equal(yc.numpy(), yt.numpy())


def test_format_seconds_keeps_three_significant_digits():
    assert [train.format_seconds(x) for x in (123.4, 12.34, 1.234, 0.87, 0.0123, 0.00012)] == \
        ["123 s", "12.3 s", "1.23 s", "870 ms", "12.3 ms", "120 us"]
