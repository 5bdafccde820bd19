/* mvCoal: matrix-vector product e = a b, one work-group per row at a time, the row's dot product
 * split over the group's work items (coalesced reads) and summed in local memory.
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "mvCoal", cf = 1 row; identifiers renamed by the
 * data set); the NVIDIA SDK's oclMatVecMul MatVecMulCoalesced0 kernel (matrix a, vector b,
 * width c, height d, result e, __local partialDotProduct f).
 * Changed: the kernel's name (A -> mvCoal); the body is the data set's, unchanged.
 *
 * Groups take rows g, g + groups, g + 2 groups ...; work item t of a group sums the row's columns
 * t, t + L, t + 2L ...; work item 0 adds the L partial sums. The result does not depend on the
 * work-group size except for the order of float additions. Barriers and local memory: it cannot be
 * coarsened.
 */
__kernel void mvCoal(const __global float* a, const __global float* b, uint c, uint d, __global float* e, __local float* f) {
  for (uint g = get_group_id(0); g < d; g += get_num_groups(0)) {
    const __global float* h = a + g * c;

    float i = 0;
    for (uint j = get_local_id(0); j < c; j += get_local_size(0))
      i += h[j] * b[j];

    f[get_local_id(0)] = i;

    barrier(1);

    if (get_local_id(0) == 0) {
      float k = 0;
      for (uint l = 0; l < get_local_size(0); ++l)
        k += f[l];
      e[g] = k;
    }

    barrier(1);
  }
}
