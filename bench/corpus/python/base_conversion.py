import random

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"

def to_base(n, b):
    if n == 0:
        return "0"
    sign, n = ("-", -n) if n < 0 else ("", n)
    out = []
    while n:
        n, r = divmod(n, b)
        out.append(DIGITS[r])
    return sign + "".join(reversed(out))

def popcount(n):
    c = 0
    while n:
        n &= n - 1
        c += 1
    return c

rng = random.Random(37)
for _ in range(5000):
    n = rng.randint(-10 ** 12, 10 ** 12)
    b = rng.randint(2, 36)
    s = to_base(n, b)
    assert int(s, b) == n
    assert to_base(n, 2) == format(n, "b") and to_base(n, 16) == format(n, "x")
    assert popcount(abs(n)) == bin(abs(n)).count("1")
print("OK base_conversion")
