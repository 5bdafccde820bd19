/* stencil: one Jacobi sweep of a 7-point 3-D stencil, Anext = c1 * (sum of the 6 neighbours)
 * - c0 * A0, over the interior of an nx x ny x nz grid, one point per work item.
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "stencil", cf = 1 row; identifiers renamed by the
 * data set); Parboil's stencil "naive" kernel (c0 a, c1 b, A0 c, Anext d, nx e, ny f, nz g).
 * Changed: the kernel's name (A -> stencil); the body is the data set's, unchanged.
 *
 * Work item (x, y, z) updates point (x + 1, y + 1, z + 1). Only x is checked (h < nx - 1), so the
 * launch may round dimension 0 up, and must be exactly (ny - 2) x (nz - 2) in the others. It reads
 * c and writes d, so the sweep is race-free. The boundary of d is not written.
 */
__kernel void stencil(float a, float b, __global float* c, __global float* d, int e, int f, int g) {
  int h = get_global_id(0) + 1;
  int i = get_global_id(1) + 1;
  int j = get_global_id(2) + 1;

  if (h < e - 1) {
    d[((h) + e * ((i) + f * (j)))] = b * (c[((h) + e * ((i) + f * (j + 1)))] + c[((h) + e * ((i) + f * (j - 1)))] + c[((h) + e * ((i + 1) + f * (j)))] + c[((h) + e * ((i - 1) + f * (j)))] + c[((h + 1) + e * ((i) + f * (j)))] + c[((h - 1) + e * ((i) + f * (j)))]) - c[((h) + e * ((i) + f * (j)))] * a;
  }
}
