#include <stdio.h>
int main(void)
{
    int x = undeclared_variable + 1;
    printf("%d\n", x);
    return 0;
}
