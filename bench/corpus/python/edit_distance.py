import random
from functools import lru_cache

def levenshtein(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]

def naive(a, b):
    @lru_cache(maxsize=None)
    def d(i, j):
        if i == 0:
            return j
        if j == 0:
            return i
        return min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] != b[j - 1]))
    return d(len(a), len(b))

assert levenshtein("kitten", "sitting") == 3
assert levenshtein("", "abc") == 3
assert levenshtein("flaw", "lawn") == 2
rng = random.Random(5)
for _ in range(150):
    a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 12)))
    b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 12)))
    assert levenshtein(a, b) == naive(a, b) == levenshtein(b, a)
print("OK edit_distance")
