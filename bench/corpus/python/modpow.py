import random

def modpow(base, exp, mod):
    result = 1
    base %= mod
    while exp:
        if exp & 1:
            result = result * base % mod
        base = base * base % mod
        exp >>= 1
    return result

def miller_rabin(n):
    if n < 2:
        return False
    for p in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
        x = modpow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True

rng = random.Random(8)
for _ in range(3000):
    b, e, m = rng.randint(0, 10 ** 12), rng.randint(0, 10 ** 12), rng.randint(1, 10 ** 9)
    assert modpow(b, e, m) == pow(b, e, m)
assert miller_rabin(2 ** 61 - 1) and not miller_rabin(2 ** 61 + 1)
assert sum(miller_rabin(n) for n in range(10000)) == 1229
print("OK modpow")
