import random

INF = float("inf")

def floyd(n, edges):
    d = [[INF] * n for _ in range(n)]
    for i in range(n):
        d[i][i] = 0
    for u, v, w in edges:
        d[u][v] = min(d[u][v], w)
    for k in range(n):
        dk = d[k]
        for i in range(n):
            dik = d[i][k]
            if dik == INF:
                continue
            di = d[i]
            for j in range(n):
                if dik + dk[j] < di[j]:
                    di[j] = dik + dk[j]
    return d

def spfa(n, edges, s):
    dist = [INF] * n
    dist[s] = 0
    changed = True
    while changed:
        changed = False
        for u, v, w in edges:
            if dist[u] + w < dist[v]:
                dist[v] = dist[u] + w
                changed = True
    return dist

rng = random.Random(22)
n = 70
edges = [(rng.randrange(n), rng.randrange(n), rng.randint(1, 100)) for _ in range(400)]
d = floyd(n, edges)
for s in range(0, n, 7):
    assert d[s] == spfa(n, edges, s)
print("OK floyd_warshall")
