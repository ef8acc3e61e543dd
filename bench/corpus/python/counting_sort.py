import random

def counting_sort(a, top):
    counts = [0] * (top + 1)
    for x in a:
        counts[x] += 1
    out = []
    for value, c in enumerate(counts):
        out.extend([value] * c)
    return out

def radix_sort(a):
    if not a:
        return a
    exp = 1
    while max(a) // exp:
        buckets = [[] for _ in range(10)]
        for x in a:
            buckets[x // exp % 10].append(x)
        a = [x for b in buckets for x in b]
        exp *= 10
    return a

rng = random.Random(15)
a = [rng.randint(0, 999) for _ in range(100000)]
assert counting_sort(a, 999) == sorted(a)
b = [rng.randint(0, 10 ** 9) for _ in range(20000)]
assert radix_sort(b) == sorted(b)
print("OK counting_sort")
