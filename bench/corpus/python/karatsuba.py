import random

def karatsuba(x, y):
    if x < 1 << 64 or y < 1 << 64:
        return x * y
    n = max(x.bit_length(), y.bit_length()) // 2
    xh, xl = x >> n, x & ((1 << n) - 1)
    yh, yl = y >> n, y & ((1 << n) - 1)
    a = karatsuba(xh, yh)
    b = karatsuba(xl, yl)
    c = karatsuba(xh + xl, yh + yl) - a - b
    return (a << 2 * n) + (c << n) + b

rng = random.Random(48)
for bits in (10, 100, 1000, 5000, 20000):
    for _ in range(5):
        x, y = rng.getrandbits(bits), rng.getrandbits(bits)
        assert karatsuba(x, y) == x * y
print("OK karatsuba")
