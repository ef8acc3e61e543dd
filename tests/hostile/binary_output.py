# Every byte value, overlong and truncated UTF-8, lone surrogates: the
# answer must still be valid JSON, with U+FFFD in place of invalid bytes.
import sys

out = sys.stdout.buffer
out.write(b"BEGIN\n")
out.write(bytes(range(256)))
out.write(b"\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xe2\x82 \xff\xfe\n")
out.write("caf\u00e9 \u2603\n".encode())
out.write(b"END\n")
sys.stderr.buffer.write(b"err \x80\x81\n")
