#!/bin/sh
# Re-records walk.pyspy.txt (py-spy raw, full file names, thread roots) from walk.py.
set -e
cd "$(dirname "$0")"
py-spy record -r 250 -f raw -t --full-filenames -o walk.pyspy.txt -- python3 walk.py 2
