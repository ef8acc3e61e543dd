import bisect
import random

def lis_fast(seq):
    tails = []
    for x in seq:
        i = bisect.bisect_left(tails, x)
        if i == len(tails):
            tails.append(x)
        else:
            tails[i] = x
    return len(tails)

def lis_slow(seq):
    best = [1] * len(seq)
    for i in range(len(seq)):
        for j in range(i):
            if seq[j] < seq[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)

assert lis_fast([10, 9, 2, 5, 3, 7, 101, 18]) == 4
rng = random.Random(9)
for _ in range(60):
    seq = [rng.randint(0, 100) for _ in range(rng.randint(0, 80))]
    assert lis_fast(seq) == lis_slow(seq)
print("OK lis")
