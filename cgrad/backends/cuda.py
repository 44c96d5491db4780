"""cgrad.backends.cuda: CUDA is not built in."""


def is_built():
    return False


class cuBLASModule:
    """backends.cuda.matmul: the cuBLAS switches scripts set (allow_tf32,
    ...); recorded, without effect on a CPU-only build."""

    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.allow_fp16_accumulation = False


matmul = cuBLASModule()
