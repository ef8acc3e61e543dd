/* Touch every page of ever more memory. */
#include <stdlib.h>
#include <string.h>

int main(void) {
    for (;;) {
        char *block = malloc(8 << 20);
        if (block == NULL) {
            return 3;
        }
        memset(block, 0x5a, 8 << 20);
    }
}
