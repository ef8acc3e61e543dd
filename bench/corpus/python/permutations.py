import itertools

def permutations(items):
    if len(items) <= 1:
        return [list(items)]
    out = []
    for i, x in enumerate(items):
        for rest in permutations(items[:i] + items[i + 1:]):
            out.append([x] + rest)
    return out

def next_permutation(a):
    i = len(a) - 2
    while i >= 0 and a[i] >= a[i + 1]:
        i -= 1
    if i < 0:
        return False
    j = len(a) - 1
    while a[j] <= a[i]:
        j -= 1
    a[i], a[j] = a[j], a[i]
    a[i + 1:] = reversed(a[i + 1:])
    return True

items = list(range(7))
assert permutations(items) == [list(p) for p in itertools.permutations(items)]
a, seen = [1, 1, 2, 3], []
while True:
    seen.append(tuple(a))
    if not next_permutation(a):
        break
assert seen == sorted(set(itertools.permutations([1, 1, 2, 3])))
print("OK permutations")
