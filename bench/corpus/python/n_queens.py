def queens(n):
    count = 0
    def place(row, cols, d1, d2):
        nonlocal count
        if row == n:
            count += 1
            return
        for c in range(n):
            if not (cols >> c & 1 or d1 >> (row + c) & 1 or d2 >> (row - c + n) & 1):
                place(row + 1, cols | 1 << c, d1 | 1 << (row + c), d2 | 1 << (row - c + n))
    place(0, 0, 0, 0)
    return count

assert [queens(n) for n in range(1, 9)] == [1, 0, 0, 2, 10, 4, 40, 92]
print("OK n_queens")
