def hanoi(n, src, dst, via, moves):
    if n:
        hanoi(n - 1, src, via, dst, moves)
        moves.append((src, dst))
        hanoi(n - 1, via, dst, src, moves)
    return moves

def check(n, moves):
    pegs = {"A": list(range(n, 0, -1)), "B": [], "C": []}
    for a, b in moves:
        disk = pegs[a].pop()
        assert not pegs[b] or pegs[b][-1] > disk
        pegs[b].append(disk)
    return pegs["C"] == list(range(n, 0, -1))

for n in range(1, 16):
    moves = hanoi(n, "A", "C", "B", [])
    assert len(moves) == 2 ** n - 1
    assert check(n, moves)
print("OK hanoi")
