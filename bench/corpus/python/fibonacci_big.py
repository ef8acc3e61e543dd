import sys

sys.set_int_max_str_digits(0)

def fib_iter(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a

def fib_doubling(n):
    def go(k):
        if k == 0:
            return 0, 1
        a, b = go(k // 2)
        c = a * (2 * b - a)
        d = a * a + b * b
        return (d, c + d) if k % 2 else (c, d)
    return go(n)[0]

assert [fib_iter(i) for i in range(10)] == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]
for n in (0, 1, 2, 50, 93, 500, 1000, 5000, 20000):
    assert fib_iter(n) == fib_doubling(n)
assert len(str(fib_doubling(100000))) == 20899
assert fib_iter(100) == 354224848179261915075
print("OK fibonacci_big")
