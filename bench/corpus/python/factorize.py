import math
import random

def factorize(n):
    factors = []
    d = 2
    while d * d <= n:
        while n % d == 0:
            factors.append(d)
            n //= d
        d += 1 if d == 2 else 2
    if n > 1:
        factors.append(n)
    return factors

assert factorize(360) == [2, 2, 2, 3, 3, 5]
assert factorize(97) == [97]
assert factorize(600851475143)[-1] == 6857
rng = random.Random(1)
for _ in range(400):
    n = rng.randint(2, 10 ** 7)
    fs = factorize(n)
    assert math.prod(fs) == n
    assert all(len(factorize(f)) == 1 for f in set(fs))
print("OK factorize")
