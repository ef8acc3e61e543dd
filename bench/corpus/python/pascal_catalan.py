import math

def pascal(rows):
    tri = [[1]]
    for _ in range(rows - 1):
        prev = tri[-1]
        tri.append([1] + [a + b for a, b in zip(prev, prev[1:])] + [1])
    return tri

def catalan_dp(n):
    c = [1] + [0] * n
    for i in range(1, n + 1):
        c[i] = sum(c[j] * c[i - 1 - j] for j in range(i))
    return c

tri = pascal(300)
assert all(tri[n][k] == math.comb(n, k) for n in range(300) for k in range(n + 1))
assert all(sum(row) == 2 ** n for n, row in enumerate(tri))
cat = catalan_dp(200)
assert cat[:10] == [1, 1, 2, 5, 14, 42, 132, 429, 1430, 4862]
assert all(cat[n] == math.comb(2 * n, n) // (n + 1) for n in range(201))
print("OK pascal_catalan")
