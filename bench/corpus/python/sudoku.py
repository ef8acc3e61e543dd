PUZZLE = (
    "530070000600195000098000060800060003400803001700020006060000280000419005000080079"
)

def solve(board):
    try:
        i = board.index(0)
    except ValueError:
        return True
    r, c = divmod(i, 9)
    used = set()
    for k in range(9):
        used.add(board[r * 9 + k]); used.add(board[k * 9 + c])
    br, bc = r - r % 3, c - c % 3
    for dr in range(3):
        for dc in range(3):
            used.add(board[(br + dr) * 9 + bc + dc])
    for v in range(1, 10):
        if v not in used:
            board[i] = v
            if solve(board):
                return True
    board[i] = 0
    return False

def valid(board):
    groups = [[r * 9 + c for c in range(9)] for r in range(9)]
    groups += [[r * 9 + c for r in range(9)] for c in range(9)]
    groups += [[(br + r) * 9 + bc + c for r in range(3) for c in range(3)] for br in (0, 3, 6) for bc in (0, 3, 6)]
    return all(sorted(board[i] for i in g) == list(range(1, 10)) for g in groups)

board = [int(ch) for ch in PUZZLE]
assert solve(board)
assert valid(board)
assert all(int(a) in (0, b) for a, b in zip(PUZZLE, board))
assert board[:9] == [5, 3, 4, 6, 7, 8, 9, 1, 2]
print("OK sudoku")
