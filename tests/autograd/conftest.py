import os
import sys

# the shared helpers of this folder (fwd_helpers, jvp_samples) import by name
sys.path.insert(0, os.path.dirname(__file__))
