/* Leave program (C): changes the runner itself (PID 1, the same user) from
 * outside, so that the next program, which the runner starts and which
 * inherits its limits and scheduling, would run differently.
 * - `leave_runner soft`: prlimit lowers the runner's soft limits (open
 *   files, processes, stack, file size) and sched_setaffinity pins it to
 *   one CPU. The reset restores both: it must say C.
 * - `leave_runner hard`: prlimit lowers the runner's hard limit of open
 *   files and setpriority raises its nice value to 10, which an
 *   unprivileged process cannot undo: the reset must say D (retire).
 * Build: gcc -O -o leave_runner leave_runner.c */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

int main(int argc, char **argv) {
    int hard = argc > 1 && strcmp(argv[1], "hard") == 0;
    int resources[] = {RLIMIT_NOFILE, RLIMIT_NPROC, RLIMIT_STACK, RLIMIT_FSIZE};
    for (unsigned i = 0; i < sizeof resources / sizeof *resources; i++) {
        struct rlimit limit;
        if (prlimit(1, resources[i], NULL, &limit)) {
            perror("prlimit get");
            continue;
        }
        limit.rlim_cur = limit.rlim_cur == RLIM_INFINITY ? 1 << 20 : limit.rlim_cur / 2;
        if (hard && resources[i] == RLIMIT_NOFILE) limit.rlim_max = limit.rlim_cur;
        if (prlimit(1, resources[i], &limit, NULL)) perror("prlimit set");
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(0, &one);
    if (sched_setaffinity(1, sizeof one, &one)) perror("sched_setaffinity");
    if (hard && setpriority(PRIO_PROCESS, 1, 10)) perror("setpriority");
    printf("changed the runner (%s)\n", hard ? "hard" : "soft");
    return 0;
}
