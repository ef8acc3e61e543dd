# Bytes that imitate the engine's multiplexed stream framing: an 8-byte
# header (stream type, 3 zero bytes, big-endian length) then the payload.
# They must arrive as stdout data, never as a stderr frame.
import sys

out = sys.stdout.buffer
out.write(b"\x01\x00\x00\x00\x00\x00\x00\x05hello")
out.write(b"\x02\x00\x00\x00\x00\x00\x00\x05EVIL!")
out.flush()
