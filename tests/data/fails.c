#include <stdio.h>
int main(void)
{
    fprintf(stderr, "input file missing\n");
    return 3;
}
