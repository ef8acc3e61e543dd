const assert = require("assert");

function shortest(grid, start, goal) {
  const rows = grid.length, cols = grid[0].length;
  const dist = new Map([[start.join(), 0]]);
  const queue = [start];
  for (let h = 0; h < queue.length; h++) {
    const [r, c] = queue[h];
    const d = dist.get(`${r},${c}`);
    if (r === goal[0] && c === goal[1]) return d;
    for (const [dr, dc] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
      const nr = r + dr, nc = c + dc, key = `${nr},${nc}`;
      if (nr >= 0 && nr < rows && nc >= 0 && nc < cols && grid[nr][nc] === "." && !dist.has(key)) {
        dist.set(key, d + 1);
        queue.push([nr, nc]);
      }
    }
  }
  return -1;
}

assert.strictEqual(shortest(["....#", ".##.#", "...#.", "#.#..", "....."], [0, 0], [4, 4]), 8);
assert.strictEqual(shortest([".#", "#."], [0, 0], [1, 1]), -1);
const open = Array.from({ length: 150 }, () => ".".repeat(150));
assert.strictEqual(shortest(open, [0, 0], [149, 149]), 298);
console.log("OK graph_bfs");
