"""cgrad.version, as torch.version: the package version and the absent
GPU toolkits (a CPU build: cuda, hip, rocm and xpu are None)."""
__version__ = "0.1.0"
debug = False
cuda = None
hip = None
rocm = None
xpu = None
git_version = "unknown"
