import random

class SegmentTree:
    def __init__(self, data):
        self.n = len(data)
        self.t = [0] * self.n + list(data)
        for i in range(self.n - 1, 0, -1):
            self.t[i] = min(self.t[2 * i], self.t[2 * i + 1])

    def update(self, i, value):
        i += self.n
        self.t[i] = value
        while i > 1:
            i //= 2
            self.t[i] = min(self.t[2 * i], self.t[2 * i + 1])

    def query(self, lo, hi):
        res = float("inf")
        lo += self.n; hi += self.n
        while lo < hi:
            if lo & 1:
                res = min(res, self.t[lo]); lo += 1
            if hi & 1:
                hi -= 1; res = min(res, self.t[hi])
            lo //= 2; hi //= 2
        return res

rng = random.Random(43)
data = [rng.randint(0, 10 ** 6) for _ in range(2000)]
st = SegmentTree(data)
for _ in range(3000):
    if rng.random() < 0.3:
        i = rng.randrange(len(data)); v = rng.randint(0, 10 ** 6)
        data[i] = v; st.update(i, v)
    else:
        lo = rng.randrange(len(data)); hi = rng.randint(lo + 1, min(len(data), lo + 60))
        assert st.query(lo, hi) == min(data[lo:hi])
print("OK segment_tree")
