import random

class DSU:
    def __init__(self, n):
        self.parent = list(range(n))
        self.size = [1] * n

    def find(self, x):
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b):
        a, b = self.find(a), self.find(b)
        if a == b:
            return False
        if self.size[a] < self.size[b]:
            a, b = b, a
        self.parent[b] = a
        self.size[a] += self.size[b]
        return True

def components_dfs(n, edges):
    adj = [[] for _ in range(n)]
    for a, b in edges:
        adj[a].append(b); adj[b].append(a)
    seen, count = [False] * n, 0
    for s in range(n):
        if not seen[s]:
            count += 1
            stack = [s]; seen[s] = True
            while stack:
                u = stack.pop()
                for v in adj[u]:
                    if not seen[v]:
                        seen[v] = True; stack.append(v)
    return count

rng = random.Random(20)
for _ in range(20):
    n = 2000
    edges = [(rng.randrange(n), rng.randrange(n)) for _ in range(rng.randint(500, 2500))]
    d = DSU(n)
    merges = sum(d.union(a, b) for a, b in edges)
    assert n - merges == components_dfs(n, edges)
print("OK union_find")
