import random

class Fenwick:
    def __init__(self, n):
        self.tree = [0] * (n + 1)

    def add(self, i, delta):
        i += 1
        while i < len(self.tree):
            self.tree[i] += delta
            i += i & -i

    def prefix(self, i):
        s = 0
        while i > 0:
            s += self.tree[i]
            i -= i & -i
        return s

def inversions(a):
    ranks = {v: i for i, v in enumerate(sorted(set(a)))}
    f, inv = Fenwick(len(ranks)), 0
    for seen, v in enumerate(a):
        inv += seen - f.prefix(ranks[v] + 1)
        f.add(ranks[v], 1)
    return inv

rng = random.Random(44)
n = 3000
vals = [0] * n
f = Fenwick(n)
for _ in range(5000):
    i = rng.randrange(n); d = rng.randint(-50, 50)
    vals[i] += d; f.add(i, d)
    j = rng.randrange(n + 1)
    assert f.prefix(j) == sum(vals[:j]) if j < 200 else True
assert f.prefix(n) == sum(vals)
for _ in range(20):
    a = [rng.randint(0, 50) for _ in range(120)]
    assert inversions(a) == sum(1 for i in range(len(a)) for j in range(i + 1, len(a)) if a[i] > a[j])
print("OK fenwick_tree")
