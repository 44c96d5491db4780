"""cgrad.utils.tensorboard: torch.utils.tensorboard's SummaryWriter, writing
TensorBoard event files itself (TFRecords of hand-encoded protobuf
messages), so neither tensorboard nor protobuf is needed to log; TensorBoard
reads the files as it reads PyTorch's."""
from cgrad.utils.tensorboard.writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "SummaryWriter"]
