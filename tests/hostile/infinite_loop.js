// Busy loop: only the wall-clock timer ends it.
let n = 0;
for (;;) {
  n = (n + 1) % 1000003;
}
