/* floydWarshall: one pass (intermediate node d) of the Floyd-Warshall all-pairs shortest paths.
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "floydWarshall", cf = 1 row; identifiers renamed
 * by the data set); the AMD APP SDK's FloydWarshall kernel (pathDistanceBuffer a, pathBuffer b,
 * numNodes c, pass d).
 * Changed: the kernel's name (A -> floydWarshall); the body is the data set's, unchanged.
 *
 * Work item (e, f) relaxes a[f][e] through node d: if a[f][d] + a[d][e] < a[f][e], it stores the
 * shorter distance and records d in the path matrix b.
 * Race-freedom: work items read row d and column d while others may write, but with non-negative
 * distances (and no overflow) a pass never shortens a[f][d] or a[d][e] (a[d][d] >= 0), so nothing
 * read is written in the same launch and the result does not depend on scheduling.
 */
__kernel void floydWarshall(__global uint* a, __global uint* b, const unsigned int c, const unsigned int d) {
  int e = get_global_id(0);
  int f = get_global_id(1);

  int g = d;
  int h = a[f * c + e];
  int i = (a[f * c + g] + a[g * c + e]);

  if (i < h) {
    a[f * c + e] = i;
    b[f * c + e] = g;
  }
}
