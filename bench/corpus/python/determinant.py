import random
from fractions import Fraction

def det_gauss(m):
    a = [[Fraction(x) for x in row] for row in m]
    n, det = len(a), Fraction(1)
    for c in range(n):
        p = next((r for r in range(c, n) if a[r][c] != 0), None)
        if p is None:
            return 0
        if p != c:
            a[c], a[p] = a[p], a[c]
            det = -det
        det *= a[c][c]
        for r in range(c + 1, n):
            f = a[r][c] / a[c][c]
            for k in range(c, n):
                a[r][k] -= f * a[c][k]
    return det

def det_laplace(m):
    if len(m) == 1:
        return m[0][0]
    return sum((-1) ** j * m[0][j] * det_laplace([row[:j] + row[j + 1:] for row in m[1:]]) for j in range(len(m)))

rng = random.Random(25)
for n in range(1, 7):
    for _ in range(5):
        m = [[rng.randint(-9, 9) for _ in range(n)] for _ in range(n)]
        assert det_gauss(m) == det_laplace(m)
assert det_gauss([[1, 2], [2, 4]]) == 0
print("OK determinant")
