import random

def merge_sort(a):
    if len(a) <= 1:
        return a
    mid = len(a) // 2
    left, right = merge_sort(a[:mid]), merge_sort(a[mid:])
    out, i, j = [], 0, 0
    while i < len(left) and j < len(right):
        if left[i] <= right[j]:
            out.append(left[i]); i += 1
        else:
            out.append(right[j]); j += 1
    out.extend(left[i:]); out.extend(right[j:])
    return out

rng = random.Random(12)
for n in (0, 1, 2, 3, 10, 100, 1000):
    a = [rng.randint(-1000, 1000) for _ in range(n)]
    assert merge_sort(a) == sorted(a)
big = [rng.random() for _ in range(30000)]
assert merge_sort(big) == sorted(big)
print("OK merge_sort")
