/* A program that changes behaviour on a given run, counted in a file next to it (runs_<HOW>.txt),
 * so tests can make a run fail or print something else after the warm-up passed, deterministically.
 * HOW (a parameter): 0 runs normally; 1 prints a wrong result, 2 aborts, 3 hangs, each from that
 * binary's 2nd run on. DRIFT_AT=K (a define): run K of HOW=0 prints a different result, as a
 * program with a data race would once in a while.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

// @autotune param HOW 0 1 2 3
#ifndef HOW
#define HOW 0
#endif
#ifndef DRIFT_AT
#define DRIFT_AT 0
#endif

static long next_run(void)
{
    char name[32];
    snprintf(name, sizeof name, "runs_%d.txt", HOW);
    long n = 0;
    FILE *f = fopen(name, "r");
    if (f) {
        if (fscanf(f, "%ld", &n) != 1)
            n = 0;
        fclose(f);
    }
    n++;
    f = fopen(name, "w");
    if (f) {
        fprintf(f, "%ld\n", n);
        fclose(f);
    }
    return n;
}

int main(void)
{
    long run = next_run();
    long result = 42;
    if (HOW == 0 && run == DRIFT_AT)
        result = 43;
    if (HOW != 0 && run >= 2) {
        if (HOW == 1)
            result = 41;
        if (HOW == 2)
            abort();
        if (HOW == 3)
            for (;;)
                pause();
    }
    printf("result %ld\n", result);
    return 0;
}
