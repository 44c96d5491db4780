# Indexing: __getitem__ and __setitem__ (ints, slices, None, Ellipsis,
# integer lists and tensors, bool masks).
