<?php
$orders = [];
for ($i = 0; $i < 3000; $i++) {
    $orders[] = ['id' => $i, 'region' => ['north', 'south', 'east', 'west'][$i % 4], 'cents' => ($i * 37) % 1000 + 1, 'qty' => $i % 9];
}
$byRegion = [];
foreach ($orders as $o) {
    $byRegion[$o['region']] = ($byRegion[$o['region']] ?? 0) + $o['cents'] * $o['qty'];
}
$total = array_sum(array_map(fn($o) => $o['cents'] * $o['qty'], $orders));
if (array_sum($byRegion) !== $total) { fwrite(STDERR, "total\n"); exit(1); }
$big = array_filter($orders, fn($o) => $o['qty'] === 8);
if (count($big) !== 333) { fwrite(STDERR, "filter\n"); exit(1); }
usort($orders, fn($a, $b) => [$b['cents'], $a['id']] <=> [$a['cents'], $b['id']]);
for ($i = 1; $i < count($orders); $i++) {
    if ($orders[$i - 1]['cents'] < $orders[$i]['cents']) { fwrite(STDERR, "order\n"); exit(1); }
}
$cols = array_column($orders, 'cents', 'id');
if (count($cols) !== 3000 || $cols[5] !== 186) { fwrite(STDERR, "column\n"); exit(1); }
echo "OK array_functions\n";
