import bisect
import random

def lower_bound(a, x):
    lo, hi = 0, len(a)
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo

def isqrt(n):
    lo, hi = 0, n + 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if mid * mid <= n:
            lo = mid
        else:
            hi = mid
    return lo

rng = random.Random(16)
a = sorted(rng.randint(0, 10 ** 6) for _ in range(50000))
for _ in range(20000):
    x = rng.randint(-5, 10 ** 6 + 5)
    assert lower_bound(a, x) == bisect.bisect_left(a, x)
import math
for n in list(range(1000)) + [10 ** 30 + 7, 2 ** 100]:
    assert isqrt(n) == math.isqrt(n)
print("OK binary_search")
