def step(live):
    counts = {}
    for (r, c) in live:
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                if dr or dc:
                    counts[(r + dr, c + dc)] = counts.get((r + dr, c + dc), 0) + 1
    return {cell for cell, n in counts.items() if n == 3 or (n == 2 and cell in live)}

blinker = {(1, 0), (1, 1), (1, 2)}
assert step(step(blinker)) == blinker and step(blinker) == {(0, 1), (1, 1), (2, 1)}
block = {(0, 0), (0, 1), (1, 0), (1, 1)}
assert step(block) == block
glider = {(0, 1), (1, 2), (2, 0), (2, 1), (2, 2)}
g = glider
for _ in range(4 * 25):
    g = step(g)
assert g == {(r + 25, c + 25) for r, c in glider}
r_pentomino = {(0, 1), (0, 2), (1, 0), (1, 1), (2, 1)}
g = r_pentomino
for _ in range(200):
    g = step(g)
assert len(g) > 50
print("OK game_of_life")
