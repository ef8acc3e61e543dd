# Allocate and touch memory as fast as possible.
chunks = []
while True:
    chunks.append(b"x" * (16 * 1024 * 1024))
