import base64
import random

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

def b64encode(data):
    out = []
    for i in range(0, len(data), 3):
        chunk = data[i:i + 3]
        n = int.from_bytes(chunk + b"\0" * (3 - len(chunk)), "big")
        chars = [ALPHABET[n >> s & 63] for s in (18, 12, 6, 0)]
        if len(chunk) < 3:
            chars[len(chunk) + 1:] = "=" * (3 - len(chunk))
        out.extend(chars)
    return "".join(out)

def b64decode(text):
    text = text.rstrip("=")
    bits = "".join(f"{ALPHABET.index(c):06b}" for c in text)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits) - len(bits) % 8, 8))

rng = random.Random(28)
for n in list(range(10)) + [100, 1000, 3000]:
    data = bytes(rng.randrange(256) for _ in range(n))
    enc = b64encode(data)
    assert enc == base64.b64encode(data).decode()
    assert b64decode(enc) == data
print("OK base64_codec")
