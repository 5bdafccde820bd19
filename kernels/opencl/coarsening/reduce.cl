/* reduce: the first pass of a parallel sum of uint4 vectors: each work-group sums 2 L of them in
 * local memory (tree reduction) and writes one partial sum.
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "reduce", cf = 1 row; identifiers renamed by the
 * data set); the AMD APP SDK's Reduction kernel (input a, output b, __local sdata c).
 * Changed: the kernel's name (A -> reduce); the body is the data set's, unchanged.
 *
 * Work item f adds a[2f] + a[2f + 1] into local memory; the group halves its partial sums log2(L)
 * times (L a power of two) and work item 0 writes the group's sum to b[group]. So the output
 * depends on the work-group size: b holds global/L partial sums, and a smaller work-group than the
 * described one writes past the end of b. Barriers and local memory: it cannot be coarsened.
 */
__kernel void reduce(__global uint4* a, __global uint4* b, __local uint4* c) {
  unsigned int d = get_local_id(0);
  unsigned int e = get_group_id(0);
  unsigned int f = get_global_id(0);

  unsigned int g = get_local_size(0);
  unsigned int h = f * 2;
  c[d] = a[h] + a[h + 1];

  barrier(1);

  for (unsigned int i = g >> 1; i > 0; i >>= 1) {
    if (d < i) {
      c[d] += c[d + i];
    }
    barrier(1);
  }

  if (d == 0)
    b[e] = c[0];
}
