/* clock.h - monotonic and wall time in the units the loops use. */
#ifndef SCR_CLOCK_H
#define SCR_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds / microseconds on CLOCK_MONOTONIC (never jumps; for timeouts and rates). */
static inline int64_t scr_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int64_t scr_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* CPU time of the whole process (all threads), microseconds. */
static inline int64_t scr_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Sleeps for us microseconds (the "no spin" primitive of the MPI wait loops). */
static inline void scr_sleep_us(int64_t us)
{
    struct timespec ts;
    if (us <= 0)
        return;
    ts.tv_sec = (time_t)(us / 1000000);
    ts.tv_nsec = (long)(us % 1000000) * 1000;
    nanosleep(&ts, NULL);
}

#endif
