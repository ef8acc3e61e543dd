<?php
$docs = [];
for ($i = 0; $i < 1500; $i++) {
    $docs[] = ['id' => $i, 'name' => "user\u{e9}$i", 'tags' => array_map(fn($j) => "t$j", range(0, $i % 4)), 'score' => $i / 4, 'active' => $i % 2 === 0, 'parent' => null];
}
$json = json_encode($docs, JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
$back = json_decode($json, true, 512, JSON_THROW_ON_ERROR);
if ($back !== $docs) { fwrite(STDERR, "roundtrip\n"); exit(1); }
$active = array_sum(array_map(fn($d) => $d['active'] ? 1 : 0, $back));
if ($active !== 750) { fwrite(STDERR, "active\n"); exit(1); }
$tags = array_sum(array_map(fn($d) => count($d['tags']), $back));
if ($tags !== 3750) { fwrite(STDERR, "tags $tags\n"); exit(1); }
echo "OK json_roundtrip\n";
