import random

def compress(data):
    table = {bytes([i]): i for i in range(256)}
    w, out = b"", []
    for b in data:
        wc = w + bytes([b])
        if wc in table:
            w = wc
        else:
            out.append(table[w])
            table[wc] = len(table)
            w = bytes([b])
    if w:
        out.append(table[w])
    return out

def decompress(codes):
    table = {i: bytes([i]) for i in range(256)}
    if not codes:
        return b""
    w = table[codes[0]]
    out = [w]
    for k in codes[1:]:
        entry = table[k] if k in table else w + w[:1]
        out.append(entry)
        table[len(table)] = w + entry[:1]
        w = entry
    return b"".join(out)

text = b"TOBEORNOTTOBEORTOBEORNOT" * 500
codes = compress(text)
assert decompress(codes) == text and len(codes) < len(text) // 8
rng = random.Random(38)
for _ in range(30):
    data = bytes(rng.choice(b"abcab ") for _ in range(rng.randint(0, 800)))
    assert decompress(compress(data)) == data
print("OK lzw")
