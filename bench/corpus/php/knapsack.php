<?php
function knapsack(array $items, int $cap): int {
    $best = array_fill(0, $cap + 1, 0);
    foreach ($items as [$w, $v]) {
        for ($c = $cap; $c >= $w; $c--) $best[$c] = max($best[$c], $best[$c - $w] + $v);
    }
    return $best[$cap];
}
function brute(array $items, int $cap): int {
    $n = count($items); $top = 0;
    for ($mask = 0; $mask < (1 << $n); $mask++) {
        $w = 0; $v = 0;
        for ($i = 0; $i < $n; $i++) if ($mask >> $i & 1) { $w += $items[$i][0]; $v += $items[$i][1]; }
        if ($w <= $cap) $top = max($top, $v);
    }
    return $top;
}
mt_srand(7);
if (knapsack([[1, 1], [3, 4], [4, 5], [5, 7]], 7) !== 9) exit(1);
for ($t = 0; $t < 30; $t++) {
    $items = [];
    for ($i = 0, $n = mt_rand(1, 10); $i < $n; $i++) $items[] = [mt_rand(1, 20), mt_rand(1, 30)];
    $cap = mt_rand(0, 60);
    if (knapsack($items, $cap) !== brute($items, $cap)) { fwrite(STDERR, "mismatch\n"); exit(1); }
}
echo "OK knapsack\n";
