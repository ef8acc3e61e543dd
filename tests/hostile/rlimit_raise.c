/* Raise the hard limits the engine set: each must fail with EPERM. Core
   dumps must be off (soft and hard 0): a crash must not hand a core to the
   host's handler. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static int try_raise(int resource, const char *name) {
    struct rlimit limit;
    getrlimit(resource, &limit);
    printf("%s soft=%llu hard=%llu\n", name, (unsigned long long)limit.rlim_cur,
           (unsigned long long)limit.rlim_max);
    struct rlimit wanted = {RLIM_INFINITY, RLIM_INFINITY};
    if (setrlimit(resource, &wanted) == 0) {
        printf("ESCAPED: raised %s\n", name);
        return 1;
    }
    printf("%s: %s\n", name, strerror(errno));
    return 0;
}

int main(void) {
    struct rlimit core;
    int escaped = 0;
    if (getrlimit(RLIMIT_CORE, &core) != 0 || core.rlim_cur != 0 || core.rlim_max != 0) {
        printf("ESCAPED: core dumps are allowed\n");
        escaped = 1;
    }
    escaped += try_raise(RLIMIT_NOFILE, "nofile") + try_raise(RLIMIT_FSIZE, "fsize") +
               try_raise(RLIMIT_CORE, "core");
    printf("%s\n", escaped ? "ESCAPED" : "BLOCKED");
    return 0;
}
