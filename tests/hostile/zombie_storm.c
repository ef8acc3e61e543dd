/* Phase 1: 300 orphans that die at once: PID 1 (docker-init) must reap
 * them, else the pids cgroup fills up with zombies and fork fails.
 * Phase 2: children never reaped by their parent: the pids limit must stop
 * the storm. */
#include <errno.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    int reaped = 0;
    for (int i = 0; i < 300; i++) {
        pid_t middle = fork();
        /* zombies of orphans may pile up for a moment: give PID 1 up to a
         * second to reap them */
        for (int retry = 0; middle < 0 && retry < 50; retry++) {
            usleep(20000);
            middle = fork();
        }
        if (middle < 0) {
            printf("ESCAPED: orphans not reaped by PID 1 after %d\n", i);
            return 0;
        }
        if (middle == 0) {
            if (fork() == 0) {
                _exit(0);
            }
            _exit(0);
        }
        waitpid(middle, NULL, 0);
        reaped++;
    }
    printf("REAPED %d orphans\n", reaped);
    fflush(stdout);
    int zombies = 0;
    for (int i = 0; i < 1000; i++) {
        pid_t child = fork();
        if (child < 0) {
            printf("BLOCKED after %d zombies (errno %d)\n", zombies, errno);
            return 0;
        }
        if (child == 0) {
            _exit(0);
        }
        zombies++;
    }
    printf("ESCAPED: %d zombies\n", zombies);
    return 0;
}
