#include <stdio.h>
int main(void)
{
    volatile unsigned long k = 0;
    for (;;) k++;
    printf("%lu\n", k);
    return 0;
}
