import math
import random

def gcd(a, b):
    while b:
        a, b = b, a % b
    return abs(a)

def ext_gcd(a, b):
    if b == 0:
        return a, 1, 0
    g, x, y = ext_gcd(b, a % b)
    return g, y, x - (a // b) * y

def lcm(a, b):
    return a // gcd(a, b) * b

rng = random.Random(4)
for _ in range(20000):
    a, b = rng.randint(1, 10 ** 9), rng.randint(1, 10 ** 9)
    assert gcd(a, b) == math.gcd(a, b)
    g, x, y = ext_gcd(a, b)
    assert a * x + b * y == g
    assert lcm(a, b) == a * b // math.gcd(a, b)
acc = 1
for k in range(1, 21):
    acc = lcm(acc, k)
assert acc == 232792560
print("OK gcd_lcm")
