// A tiny Asyncify program for the integration snippets: sleeps a few times, then grows memory.
#include <emscripten.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  for (int i = 0; i < 3; i++) emscripten_sleep(0);
  char *big = malloc(32 << 20);
  big[0] = 1;
  printf("slept 3 times, grew memory: %d\n", big[0]);
  return 0;
}
