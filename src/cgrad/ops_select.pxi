# Selecting reductions and statistics: prod, max, min, amax, amin, argmax,
# argmin, var, std, logsumexp.
