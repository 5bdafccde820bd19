/* Prints its region timer depending on TIMED (a parameter) and NO_TIMER (a define), to test what
 * the protocol does when a run lacks the timer its program promises: TIMED=1 (the default) prints
 * it unless NO_TIMER is defined, TIMED=0 never does, TIMED=2 always does.
 */
#include <stdio.h>
#include <autotune.h>

// @autotune param TIMED 1 0 2
#ifndef TIMED
#define TIMED 1
#endif

int main(void)
{
    AUTOTUNE_REGION_BEGIN(work);
    double s = 0.0;
    for (int i = 1; i <= 100000; i++)
        s += 1.0 / i;
#if (TIMED == 1 && !defined(NO_TIMER)) || TIMED == 2
    AUTOTUNE_REGION_END(work);
#else
    (void)autotune_region_start_work;
#endif
    printf("sum %.9f\n", s);
    return 0;
}
