import random
from itertools import groupby

def encode(s):
    out = []
    i = 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]:
            j += 1
        out.append(f"{j - i}{s[i]}")
        i = j
    return "".join(out)

def decode(s):
    out, num = [], ""
    for ch in s:
        if ch.isdigit():
            num += ch
        else:
            out.append(ch * int(num))
            num = ""
    return "".join(out)

assert encode("WWWWWWWWWWWWBWWWWWWWWWWWWBBBWWWWWWWWWWWWWWWWWWWWWWWWBWWWWWWWWWWWWWW") == "12W1B12W3B24W1B14W"
rng = random.Random(27)
for _ in range(500):
    s = "".join(rng.choice("ab") * rng.randint(1, 15) for _ in range(rng.randint(0, 30)))
    assert decode(encode(s)) == s
    assert encode(s) == "".join(f"{len(list(g))}{k}" for k, g in groupby(s))
print("OK run_length")
