def sieve(n):
    flags = bytearray([1]) * (n + 1)
    flags[0:2] = b"\x00\x00"
    for p in range(2, int(n ** 0.5) + 1):
        if flags[p]:
            flags[p * p :: p] = bytes(len(range(p * p, n + 1, p)))
    return [i for i, f in enumerate(flags) if f]

def is_prime(n):
    if n < 2:
        return False
    d = 2
    while d * d <= n:
        if n % d == 0:
            return False
        d += 1
    return True

primes = sieve(300000)
assert len(primes) == 25997
assert primes[:10] == [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]
assert [p for p in range(2000) if is_prime(p)] == [p for p in primes if p < 2000]
assert sum(primes[:1000]) == 3682913
print("OK sieve_primes")
