import random

def count_islands(grid):
    rows, cols = len(grid), len(grid[0])
    seen = [[False] * cols for _ in range(rows)]
    count = 0
    for r in range(rows):
        for c in range(cols):
            if grid[r][c] == "1" and not seen[r][c]:
                count += 1
                stack = [(r, c)]
                seen[r][c] = True
                while stack:
                    y, x = stack.pop()
                    for ny, nx in ((y + 1, x), (y - 1, x), (y, x + 1), (y, x - 1)):
                        if 0 <= ny < rows and 0 <= nx < cols and grid[ny][nx] == "1" and not seen[ny][nx]:
                            seen[ny][nx] = True
                            stack.append((ny, nx))
    return count

def count_union(grid):
    rows, cols = len(grid), len(grid[0])
    parent = {}
    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for r in range(rows):
        for c in range(cols):
            if grid[r][c] == "1":
                parent[(r, c)] = (r, c)
                for p in ((r - 1, c), (r, c - 1)):
                    if p in parent:
                        parent[find(p)] = find((r, c))
    return len({find(p) for p in parent})

assert count_islands(["11000", "11000", "00100", "00011"]) == 3
rng = random.Random(47)
for _ in range(15):
    g = ["".join(rng.choice("0001") for _ in range(60)) for _ in range(60)]
    assert count_islands(g) == count_union(g)
print("OK islands")
