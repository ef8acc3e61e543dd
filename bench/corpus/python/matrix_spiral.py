def spiral(m):
    out = []
    top, bottom, left, right = 0, len(m) - 1, 0, len(m[0]) - 1 if m else -1
    while top <= bottom and left <= right:
        out += [m[top][c] for c in range(left, right + 1)]
        out += [m[r][right] for r in range(top + 1, bottom + 1)]
        if top < bottom:
            out += [m[bottom][c] for c in range(right - 1, left - 1, -1)]
        if left < right:
            out += [m[r][left] for r in range(bottom - 1, top, -1)]
        top, bottom, left, right = top + 1, bottom - 1, left + 1, right - 1
    return out

def rotate(m):
    return [list(row) for row in zip(*m[::-1])]

assert spiral([[1, 2, 3], [4, 5, 6], [7, 8, 9]]) == [1, 2, 3, 6, 9, 8, 7, 4, 5]
assert spiral([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]) == [1, 2, 3, 4, 8, 12, 11, 10, 9, 5, 6, 7]
for r in range(1, 30):
    for c in range(1, 30, 3):
        m = [[r * 100 + c for c in range(c)] for r in range(r)]
        m = [[i * c + j for j in range(c)] for i in range(r)]
        assert sorted(spiral(m)) == list(range(r * c))
m = [[i * 7 + j for j in range(7)] for i in range(7)]
assert rotate(rotate(rotate(rotate(m)))) == m
assert rotate(m)[0] == [m[6 - k][0] for k in range(7)]
print("OK matrix_spiral")
