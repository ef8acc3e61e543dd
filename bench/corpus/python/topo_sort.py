import random
from collections import deque

def topo_sort(n, edges):
    indeg = [0] * n
    adj = [[] for _ in range(n)]
    for u, v in edges:
        adj[u].append(v)
        indeg[v] += 1
    q = deque(i for i in range(n) if indeg[i] == 0)
    order = []
    while q:
        u = q.popleft()
        order.append(u)
        for v in adj[u]:
            indeg[v] -= 1
            if indeg[v] == 0:
                q.append(v)
    return order if len(order) == n else None

rng = random.Random(19)
for _ in range(50):
    n = 200
    perm = list(range(n)); rng.shuffle(perm)
    edges = []
    for _ in range(600):
        a, b = sorted(rng.sample(range(n), 2))
        edges.append((perm[a], perm[b]))
    order = topo_sort(n, edges)
    pos = {v: i for i, v in enumerate(order)}
    assert all(pos[u] < pos[v] for u, v in edges)
assert topo_sort(3, [(0, 1), (1, 2), (2, 0)]) is None
print("OK topo_sort")
