import heapq
import random

def kruskal(n, edges):
    parent = list(range(n))
    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    total = 0
    for w, u, v in sorted(edges):
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[ru] = rv
            total += w
    return total

def prim(n, edges):
    adj = [[] for _ in range(n)]
    for w, u, v in edges:
        adj[u].append((w, v)); adj[v].append((w, u))
    seen = [False] * n
    pq, total = [(0, 0)], 0
    while pq:
        w, u = heapq.heappop(pq)
        if seen[u]:
            continue
        seen[u] = True
        total += w
        for e in adj[u]:
            if not seen[e[1]]:
                heapq.heappush(pq, e)
    return total

rng = random.Random(21)
for _ in range(10):
    n = 150
    edges = [(rng.randint(1, 1000), i, i + 1) for i in range(n - 1)]
    edges += [(rng.randint(1, 1000), rng.randrange(n), rng.randrange(n)) for _ in range(800)]
    assert kruskal(n, edges) == prim(n, edges)
print("OK mst")
