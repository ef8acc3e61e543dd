/* Leave program (C): tries to leave processes, sockets, IPC objects and
 * changed limits for the next run in the same sandbox.
 * - a double-forked daemon (setsid, SIGTERM/SIGHUP/SIGINT ignored) that
 *   outlives its parent, holds a TCP listener on 127.0.0.1:4242, an
 *   abstract unix socket "@braindrill-trace-c" and a filesystem one at
 *   /tmp/c.sock, and after 300 ms writes /tmp/c-daemon-was-here and prints
 *   "C DAEMON" every 100 ms;
 * - a plain child that ignores SIGTERM and sleeps, never waited for;
 * - System V shared memory, a semaphore set and a message queue (with a
 *   message in it), a POSIX message queue /braindrill-trace-c (with a
 *   message in it);
 * - umask 0 and lowered soft limits (open files, stack, processes) for
 *   itself and its children.
 * Then it exits 0 at once. Build: gcc -O -o leave leave_processes.c */
#include <fcntl.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void ignore_signals(void) {
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGINT, SIG_IGN);
}

static void hold_sockets(void) {
    int tcp = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(tcp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(4242)};
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(tcp, (struct sockaddr *)&in, sizeof in) || listen(tcp, 8))
        perror("tcp");
    int abstract = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    const char name[] = "braindrill-trace-c";
    memcpy(un.sun_path + 1, name, sizeof name - 1);
    if (bind(abstract, (struct sockaddr *)&un,
             offsetof(struct sockaddr_un, sun_path) + 1 + sizeof name - 1) ||
        listen(abstract, 8))
        perror("abstract");
    int path = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un file = {.sun_family = AF_UNIX};
    strcpy(file.sun_path, "/tmp/c.sock");
    if (bind(path, (struct sockaddr *)&file, sizeof file) || listen(path, 8))
        perror("unix");
}

static void daemon_body(void) {
    ignore_signals();
    hold_sockets();
    usleep(300 * 1000);
    for (;;) {
        int fd = open("/tmp/c-daemon-was-here", O_CREAT | O_WRONLY | O_APPEND, 0666);
        if (fd >= 0) {
            write(fd, "x\n", 2);
            close(fd);
        }
        printf("C DAEMON\n");
        fflush(stdout);
        usleep(100 * 1000);
    }
}

static void leave_ipc(void) {
    int shm = shmget(0x42524e44, 4096, IPC_CREAT | 0666);
    if (shm < 0) perror("shmget");
    if (shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600) < 0) perror("shmget private");
    if (semget(0x42524e45, 3, IPC_CREAT | 0666) < 0) perror("semget");
    int msq = msgget(0x42524e46, IPC_CREAT | 0666);
    if (msq < 0) perror("msgget");
    struct { long type; char text[16]; } message = {1, "for the next"};
    msgsnd(msq, &message, sizeof message.text, IPC_NOWAIT);
    struct mq_attr attr = {.mq_maxmsg = 4, .mq_msgsize = 64};
    mqd_t queue = mq_open("/braindrill-trace-c", O_CREAT | O_RDWR, 0666, &attr);
    if (queue == (mqd_t)-1) perror("mq_open");
    else mq_send(queue, "for the next", 12, 0);
}

static void lower_limits(void) {
    umask(0);
    struct rlimit limit;
    int resources[] = {RLIMIT_NOFILE, RLIMIT_STACK, RLIMIT_NPROC};
    for (unsigned i = 0; i < sizeof resources / sizeof *resources; i++) {
        getrlimit(resources[i], &limit);
        limit.rlim_cur = limit.rlim_cur == RLIM_INFINITY ? 1 << 20 : limit.rlim_cur / 2;
        setrlimit(resources[i], &limit);
    }
}

int main(void) {
    leave_ipc();
    lower_limits();
    pid_t first = fork();
    if (first == 0) {
        setsid();
        if (fork() == 0) daemon_body();
        _exit(0);
    }
    if (fork() == 0) {
        ignore_signals();
        for (;;) pause();
    }
    waitpid(first, NULL, 0);
    printf("left: daemon, SIGTERM-proof child, sockets, SysV IPC, POSIX queue, umask, rlimits\n");
    return 0;
}
