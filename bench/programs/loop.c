/* an integer loop: 20 million iterations of multiply, modulo and add (jit_compare.py's C baseline) */
#include <stdio.h>
int main(void) {
  long s = 0;
  for (long i = 0; i < 20000000; ++i) s += i * i % 7;
  printf("%ld\n", s);
  return 0;
}
