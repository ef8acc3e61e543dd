# Builds a 32 MiB buffer and checks it against its own pieces.
import hashlib
import zlib

size = 32 * 1024 * 1024
pattern = bytes(range(256)) * 4096
buf = bytearray(size)
for off in range(0, size, len(pattern)):
    buf[off:off + len(pattern)] = pattern
assert len(buf) == size and buf[300] == 300 % 256
whole = zlib.crc32(buf)
running = 0
for off in range(0, size, len(pattern)):
    running = zlib.crc32(memoryview(buf)[off:off + len(pattern)], running)
assert running == whole
assert hashlib.sha1(buf[:1 << 20]).digest() == hashlib.sha1(pattern[: 1 << 20]).digest()
print("OK buffer_checksum_memory")
