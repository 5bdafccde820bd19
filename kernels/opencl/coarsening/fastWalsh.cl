/* fastWalsh: one butterfly step of the fast Walsh-Hadamard transform, in place.
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "fastWalsh", cf = 1 row; identifiers renamed by
 * the data set); the AMD APP SDK's FastWalshTransform kernel (tArray, step).
 * Changed: the kernel's name (A -> fastWalsh), and the step parameter's `__const int b` (the AMD
 * SDK's spelling; clang accepts __const as the GNU alias of const) is written `const int b`:
 * autotune's kernel parser (tree-sitter-c) takes __const for a type name and `int` for the
 * parameter's name. Same meaning; the body is the data set's, unchanged.
 *
 * Work item c combines the pair (e, e + b) of its block of 2b elements into (sum, difference).
 * The pairs of one launch are disjoint, so the step is race-free. Launch: N/2 work items for N
 * elements; the host runs log2(N) such steps (b = 1, 2, 4, ...), this launch is one of them.
 */
__kernel void fastWalsh(__global float* a, const int b) {
  unsigned int c = get_global_id(0);

  const unsigned int d = c % b;
  const unsigned int e = 2 * b * (c / b) + d;

  const unsigned int f = e + b;

  float g = a[e];
  float h = a[f];

  a[e] = g + h;
  a[f] = g - h;
}
