# Allocates a 20 MB bytearray: a memory-heavy, CPU-heavy prime count.
def count_primes(n):
    flags = bytearray([1]) * n
    flags[0] = flags[1] = 0
    for p in range(2, int(n ** 0.5) + 1):
        if flags[p]:
            flags[p * p::p] = bytes(len(range(p * p, n, p)))
    return flags.count(1), flags

count, flags = count_primes(20_000_000)
assert count == 1_270_607
assert flags[19_999_999] == 1 and flags[19_999_998] == 0
print("OK big_sieve_memory")
