#include <stdio.h>
#include <time.h>

int main(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("result %ld\n", (long)ts.tv_nsec);
    return 0;
}
