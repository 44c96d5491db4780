"""Internals of cgrad.utils.data (collation, worker processes, fetchers),
laid out as torch.utils.data._utils so imports from there keep working."""
from cgrad.utils.data._utils import collate, fetch, worker

# how often (seconds) a blocked worker or loader wakes to check that its peer lives
MP_STATUS_CHECK_INTERVAL = 5.0
