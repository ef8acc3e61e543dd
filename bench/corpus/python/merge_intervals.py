import random

def merge(intervals):
    out = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return out

def covered(intervals):
    points = set()
    for s, e in intervals:
        points.update(range(s * 2, e * 2 + 1))
    return points

assert merge([[1, 3], [2, 6], [8, 10], [15, 18]]) == [[1, 6], [8, 10], [15, 18]]
assert merge([[1, 4], [4, 5]]) == [[1, 5]]
rng = random.Random(36)
for _ in range(300):
    iv = []
    for _ in range(rng.randint(0, 20)):
        s = rng.randint(0, 100)
        iv.append([s, s + rng.randint(0, 10)])
    m = merge(iv)
    assert covered(m) == covered(iv)
    assert all(m[i][1] < m[i + 1][0] for i in range(len(m) - 1))
print("OK merge_intervals")
