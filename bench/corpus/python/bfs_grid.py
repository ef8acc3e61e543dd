import random
from collections import deque

def shortest(grid, start, goal):
    rows, cols = len(grid), len(grid[0])
    dist = {start: 0}
    q = deque([start])
    while q:
        r, c = q.popleft()
        if (r, c) == goal:
            return dist[(r, c)]
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nr, nc = r + dr, c + dc
            if 0 <= nr < rows and 0 <= nc < cols and grid[nr][nc] == "." and (nr, nc) not in dist:
                dist[(nr, nc)] = dist[(r, c)] + 1
                q.append((nr, nc))
    return -1

maze = ["....#", ".##.#", "...#.", "#.#..", "....."]
assert shortest(maze, (0, 0), (4, 4)) == 8
assert shortest([".#", "#."], (0, 0), (1, 1)) == -1
open_grid = ["." * 120 for _ in range(120)]
assert shortest(open_grid, (0, 0), (119, 119)) == 238
rng = random.Random(17)
g = ["".join("." if rng.random() > 0.25 else "#" for _ in range(80)) for _ in range(80)]
g[0] = "." + g[0][1:]
d = shortest(g, (0, 0), (79, 79))
assert d == -1 or d >= 158
print("OK bfs_grid")
