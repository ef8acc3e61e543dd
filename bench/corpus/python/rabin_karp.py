import random

def rabin_karp(text, pattern, base=257, mod=(1 << 61) - 1):
    m = len(pattern)
    if m > len(text):
        return []
    high = pow(base, m - 1, mod)
    hp = ht = 0
    for a, b in zip(pattern, text):
        hp = (hp * base + ord(a)) % mod
        ht = (ht * base + ord(b)) % mod
    hits = []
    for i in range(len(text) - m + 1):
        if hp == ht and text[i:i + m] == pattern:
            hits.append(i)
        if i + m < len(text):
            ht = ((ht - ord(text[i]) * high) * base + ord(text[i + m])) % mod
    return hits

rng = random.Random(32)
text = "".join(rng.choice("abc") for _ in range(30000))
for _ in range(4):
    start = rng.randrange(len(text) - 10)
    pat = text[start:start + rng.randint(1, 8)]
    expect, i = [], text.find(pat)
    while i != -1:
        expect.append(i)
        i = text.find(pat, i + 1)
    assert rabin_karp(text, pat) == expect
print("OK rabin_karp")
