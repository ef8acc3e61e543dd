/* Unbounded recursion: the stack limit ends it with SIGSEGV. */
#include <stdio.h>

static int depth(volatile char *previous) {
    volatile char frame[4096];
    frame[0] = previous ? previous[0] + 1 : 0;
    return depth(frame) + frame[1];
}

int main(void) {
    printf("%d\n", depth(NULL));
    return 0;
}
