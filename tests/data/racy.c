/* A data race: threads add to a shared sum without `reduction`, so updates
 * are lost and the printed total changes from run to run. `volatile` keeps the
 * sum in memory (one load and one store per addition), so two threads running
 * at the same time lose updates on every run, and even threads sharing one core
 * lose some whenever the scheduler switches between a load and its store.
 */
#include <stdio.h>

#define N 20000000L

static volatile double sum = 0.0;

int main(void)
{
#pragma omp parallel for
    for (long i = 0; i < N; i++)
        sum += (double)(i % 1000);
    printf("sum %.1f\n", sum);
    return 0;
}
