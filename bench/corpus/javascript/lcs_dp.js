const assert = require("assert");

function lcs(a, b) {
  let prev = new Array(b.length + 1).fill(0);
  for (const x of a) {
    const cur = [0];
    for (let j = 0; j < b.length; j++) cur.push(x === b[j] ? prev[j] + 1 : Math.max(prev[j + 1], cur[j]));
    prev = cur;
  }
  return prev[b.length];
}

function lcsSlow(a, b, i = 0, j = 0, memo = new Map()) {
  if (i === a.length || j === b.length) return 0;
  const key = i * 1000 + j;
  if (memo.has(key)) return memo.get(key);
  const v = a[i] === b[j] ? 1 + lcsSlow(a, b, i + 1, j + 1, memo) : Math.max(lcsSlow(a, b, i + 1, j, memo), lcsSlow(a, b, i, j + 1, memo));
  memo.set(key, v);
  return v;
}

assert.strictEqual(lcs("ABCBDAB", "BDCABA"), 4);
let seed = 3;
const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
const word = (n) => Array.from({ length: n }, () => "ACGT"[rnd() % 4]).join("");
for (let t = 0; t < 100; t++) {
  const a = word(rnd() % 40), b = word(rnd() % 40);
  assert.strictEqual(lcs(a, b), lcsSlow(a, b));
}
console.log("OK lcs_dp");
