# Holds about 32 MB of machine integers in two arrays.
import random
from array import array
from itertools import accumulate

rng = random.Random(39)
n = 2_000_000
values = array("q", range(n))
prefix = array("q", accumulate(values))
assert prefix[-1] == n * (n - 1) // 2
for _ in range(1000):
    i = rng.randrange(n)
    j = rng.randrange(i, n)
    assert prefix[j] - (prefix[i - 1] if i else 0) == (i + j) * (j - i + 1) // 2
print("OK array_prefix_memory")
