import sys

if "--large" in sys.argv[1:]:
    from bench.large import main
else:
    from bench.run import main

main()
