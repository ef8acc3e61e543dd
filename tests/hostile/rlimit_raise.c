/* Raise the hard limits the engine set: each must fail with EPERM. */
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
    int escaped = try_raise(RLIMIT_NOFILE, "nofile") + try_raise(RLIMIT_FSIZE, "fsize");
    printf("%s\n", escaped ? "ESCAPED" : "BLOCKED");
    return 0;
}
