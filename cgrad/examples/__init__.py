"""Runnable examples shipped with cgrad: the UCI digits data set (digits) and the
training jobs over it (train, train_distributed), each run as python -m cgrad.examples.<name>."""
