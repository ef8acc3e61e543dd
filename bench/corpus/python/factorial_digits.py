import math
import sys

sys.set_int_max_str_digits(0)

def factorial(n):
    r = 1
    for k in range(2, n + 1):
        r *= k
    return r

def digit_sum(n):
    return sum(map(int, str(n)))

def trailing_zeros(n):
    z, p = 0, 5
    while p <= n:
        z += n // p
        p *= 5
    return z

assert digit_sum(factorial(100)) == 648
assert factorial(2000) == math.factorial(2000)
for n in (10, 100, 1000, 3000):
    s = str(factorial(n))
    assert len(s) - len(s.rstrip("0")) == trailing_zeros(n)
assert digit_sum(2 ** 1000) == 1366
print("OK factorial_digits")
