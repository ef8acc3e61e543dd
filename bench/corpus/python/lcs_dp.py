import random
from functools import lru_cache

def lcs(a, b):
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]

def lcs_memo(a, b):
    @lru_cache(maxsize=None)
    def go(i, j):
        if i == len(a) or j == len(b):
            return 0
        if a[i] == b[j]:
            return 1 + go(i + 1, j + 1)
        return max(go(i + 1, j), go(i, j + 1))
    return go(0, 0)

assert lcs("ABCBDAB", "BDCABA") == 4
rng = random.Random(11)
for _ in range(40):
    a = "".join(rng.choice("ACGT") for _ in range(rng.randint(0, 30)))
    b = "".join(rng.choice("ACGT") for _ in range(rng.randint(0, 30)))
    assert lcs(a, b) == lcs_memo(a, b)
a = "".join(rng.choice("ACGT") for _ in range(300))
b = "".join(rng.choice("ACGT") for _ in range(300))
assert 150 < lcs(a, b) <= 300
print("OK lcs_dp")
