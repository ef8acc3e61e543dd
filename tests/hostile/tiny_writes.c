/* Output one byte per write(2), forever: hundreds of thousands of tiny
 * frames. The cap must still be reached and enforced. */
#include <unistd.h>

int main(void) {
    for (;;) {
        if (write(1, "t", 1) < 0) {
            return 1;
        }
    }
}
