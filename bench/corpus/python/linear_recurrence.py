MOD = 10 ** 9 + 7

def mat_mul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(len(b))) % MOD for j in range(len(b[0]))] for i in range(len(a))]

def mat_pow(m, e):
    r = [[int(i == j) for j in range(len(m))] for i in range(len(m))]
    while e:
        if e & 1:
            r = mat_mul(r, m)
        m = mat_mul(m, m)
        e >>= 1
    return r

def tribonacci(n):
    a, b, c = 0, 0, 1
    for _ in range(n):
        a, b, c = b, c, (a + b + c) % MOD
    return a

def tribonacci_fast(n):
    m = mat_pow([[0, 1, 0], [0, 0, 1], [1, 1, 1]], n)
    return m[0][2]

for n in list(range(50)) + [1000, 12345, 50000]:
    assert tribonacci(n) == tribonacci_fast(n)
assert mat_pow([[1, 1], [1, 0]], 10 ** 18)[0][1] == 209783453
print("OK linear_recurrence")
