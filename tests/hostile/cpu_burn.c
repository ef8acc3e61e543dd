/* Eight busy threads for one second of wall time: with one CPU of quota
 * the process may use about one second of CPU, not eight. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static volatile int stop;

static double seconds(clockid_t clock) {
    struct timespec now;
    clock_gettime(clock, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

static void *burn(void *arg) {
    (void)arg;
    volatile unsigned long spin = 0;
    while (!stop) {
        spin++;
    }
    return NULL;
}

int main(void) {
    enum { THREADS = 8 };
    pthread_t threads[THREADS];
    double wall0 = seconds(CLOCK_MONOTONIC);
    double cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (int i = 0; i < THREADS; i++) {
        pthread_create(&threads[i], NULL, burn, NULL);
    }
    while (seconds(CLOCK_MONOTONIC) - wall0 < 1.0) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    stop = 1;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    double wall = seconds(CLOCK_MONOTONIC) - wall0;
    double cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    printf("threads=%d wall=%.3f cpu=%.3f\n", THREADS, wall, cpu);
    return 0;
}
