/* One file past the 8 MiB size limit, with SIGXFSZ ignored: write must
 * fail with EFBIG. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    signal(SIGXFSZ, SIG_IGN);
    int fd = open("/tmp/big", O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror("open");
        return 2;
    }
    static char chunk[1 << 20];
    memset(chunk, 'b', sizeof chunk);
    long total = 0;
    for (int i = 0; i < 12; i++) {
        ssize_t n = write(fd, chunk, sizeof chunk);
        if (n < 0) {
            printf("%s %s after %ld bytes\n", errno == EFBIG ? "BLOCKED" : "FAILED",
                   strerror(errno), total);
            return 0;
        }
        total += n;
        if (n < (ssize_t)sizeof chunk) {
            /* a short write at the limit; the next one fails */
            continue;
        }
    }
    printf("ESCAPED: wrote %ld bytes\n", total);
    return 0;
}
