"""python -m bench [--large ...]: the benchmark driver (bench/run.py), or with
--large the large-tensor suite (bench/large.py), each parsing the rest of the
command line."""
import sys

if "--large" in sys.argv[1:]:
    from bench.large import main
else:
    from bench.run import main

main()
