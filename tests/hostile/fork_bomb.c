/* Classic fork bomb: every process forks forever. The pids cgroup (64)
 * must contain it and the wall-clock timer must end it. */
#include <unistd.h>

int main(void) {
    for (;;) {
        fork();
    }
}
