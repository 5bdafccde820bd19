#include <stdio.h>
#include <math.h>

int main(void)
{
    double s = 0.0;
    s += sqrt(2.0) * 3.0;
    printf("%.9f\n", s);
    return 0;
}
