# Write to stdout as fast as possible, forever.
import sys

chunk = "A" * 65536
while True:
    sys.stdout.write(chunk)
