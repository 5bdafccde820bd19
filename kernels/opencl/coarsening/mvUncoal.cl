/* mvUncoal: matrix-vector product e = a b, one row per work item (uncoalesced reads: neighbouring
 * work items read addresses a row apart).
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "mvUncoal", cf = 1 row; identifiers renamed by
 * the data set); the NVIDIA SDK's oclMatVecMul MatVecMulUncoalesced0 kernel (matrix a, vector b,
 * width c, height d, result e).
 * Changed: the kernel's name (A -> mvUncoal); the body is the data set's, unchanged.
 */
__kernel void mvUncoal(const __global float* a, const __global float* b, uint c, uint d, __global float* e) {
  uint f = get_global_id(0);
  if (f < d) {
    const __global float* g = a + f * c;

    float h = 0;
    for (int i = 0; i < c; ++i)
      h += g[i] * b[i];

    e[f] = h;
  }
}
