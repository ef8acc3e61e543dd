import random
from fractions import Fraction

def matmul(a, b):
    bt = list(zip(*b))
    return [[sum(x * y for x, y in zip(row, col)) for col in bt] for row in a]

def inverse(m):
    n = len(m)
    a = [[Fraction(x) for x in row] + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(m)]
    for c in range(n):
        p = next(r for r in range(c, n) if a[r][c] != 0)
        a[c], a[p] = a[p], a[c]
        pv = a[c][c]
        a[c] = [x / pv for x in a[c]]
        for r in range(n):
            if r != c and a[r][c] != 0:
                f = a[r][c]
                a[r] = [x - f * y for x, y in zip(a[r], a[c])]
    return [row[n:] for row in a]

rng = random.Random(24)
n = 8
while True:
    m = [[rng.randint(-5, 5) for _ in range(n)] for _ in range(n)]
    try:
        inv = inverse(m)
        break
    except StopIteration:
        pass
ident = matmul(m, inv)
assert all(ident[i][j] == (1 if i == j else 0) for i in range(n) for j in range(n))
a = [[rng.randint(0, 9) for _ in range(60)] for _ in range(60)]
b = [[rng.randint(0, 9) for _ in range(60)] for _ in range(60)]
c = matmul(a, b)
assert c[5][7] == sum(a[5][k] * b[k][7] for k in range(60))
assert matmul(matmul(a, b), a) == matmul(a, matmul(b, a))
print("OK matrix_multiply")
