import random

def quicksort(a, lo=0, hi=None):
    if hi is None:
        hi = len(a) - 1
    while lo < hi:
        pivot = a[(lo + hi) // 2]
        i, j = lo, hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                a[i], a[j] = a[j], a[i]
                i += 1
                j -= 1
        if j - lo < hi - i:
            quicksort(a, lo, j); lo = i
        else:
            quicksort(a, i, hi); hi = j
    return a

rng = random.Random(13)
for n in (0, 1, 2, 5, 50, 500):
    a = [rng.randint(0, 20) for _ in range(n)]
    assert quicksort(a[:]) == sorted(a)
big = [rng.randint(0, 10 ** 6) for _ in range(40000)]
assert quicksort(big[:]) == sorted(big)
print("OK quicksort")
