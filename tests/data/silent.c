int main(void)
{
    volatile double s = 0;
    for (int i = 0; i < 1000; i++) s += i;
    return 0;
}
