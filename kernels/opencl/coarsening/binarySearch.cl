/* bitonicSort: one compare-and-swap step of a bitonic sort (stage b, pass c, direction d).
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "binarySearch", cf = 1 row; identifiers renamed by
 * the data set). The data set labels it binarySearch, but the code is the AMD APP SDK's BitonicSort
 * kernel (theArray, stage, passOfStage, direction): work item f compares the elements i and
 * j = i + 2^(b - c) and puts them in the order the block's direction asks for.
 * Changed: the kernel's name (A -> bitonicSort); the body is the data set's, unchanged.
 *
 * Each work item owns one pair, and the pairs of one launch are disjoint, so the step is race-free
 * and its result independent of scheduling. Launch: N/2 work items for an array of N elements,
 * with c <= b < log2(N).
 */
__kernel void bitonicSort(__global uint* a, const uint b, const uint c, const uint d) {
  uint e = d;
  uint f = get_global_id(0);

  uint g = 1 << (b - c);
  uint h = 2 * g;

  uint i = (f % g) + (f / g) * h;

  uint j = i + g;

  uint k = a[i];
  uint l = a[j];

  uint m = 1 << b;

  if ((f / m) % 2 == 1)
    e = 1 - e;

  uint n;
  uint o;
  if (k > l) {
    n = k;
    o = l;
  } else {
    n = l;
    o = k;
  }

  if (e) {
    a[i] = o;
    a[j] = n;
  } else {
    a[i] = n;
    a[j] = o;
  }
}
