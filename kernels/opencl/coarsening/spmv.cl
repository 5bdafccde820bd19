/* spmv: sparse matrix times dense vector, the matrix in JDS (jagged diagonal storage), one row
 * per work item.
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "spmv", cf = 1 row; identifiers renamed by the
 * data set); Parboil's spmv JDS kernel (dst_vector a, d_data b, d_index c, d_perm d,
 * x_vec e, dim f, jds_ptr_int g, sh_zcnt_int h).
 * Changed: the kernel's name (A -> spmv); the body is the data set's, unchanged.
 *
 * Rows are sorted by length (d is the permutation back to the original order); the l-th nonzero
 * of (sorted) row i is at g[l] + i in b (value) and c (column); h[i / 32] is the longest row's
 * length in i's slice of 32 rows. Work item i writes a[d[i]]: d must be a permutation, or two work
 * items would write one element (a race).
 */
__kernel void spmv(__global float* a, __global float* b, __global int* c, __global int* d, __global float* e, const int f, __constant int* g, __constant int* h) {
  int i = get_global_id(0);

  if (i < f) {
    float j = 0.0f;

    int k = h[i / 32];

    for (int l = 0; l < k; l++) {
      int m = g[l] + i;
      int n = c[m];

      float o = b[m];
      float p = e[n];

      j += o * p;
    }

    a[d[i]] = j;
  }
}
