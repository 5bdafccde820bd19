/* sgemm: C = alpha A B^T + beta C (single precision), one element of C per work item.
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "sgemm", cf = 1 row; identifiers renamed by the
 * data set); Parboil's sgemm "base" kernel mysgemmNT (A a with leading dimension b, B c with
 * leading dimension d, C e with leading dimension f, inner dimension g, alpha h, beta i).
 * Changed: the kernel's name (A -> sgemm); the body is the data set's, unchanged.
 *
 * Column-major storage: A is M x K (a[row + m * lda]), B is given transposed as N x K
 * (c[col + m * ldb]), C is M x N (e[row + col * ldc]). Work item (k, l) computes C[k][l].
 */
__kernel void sgemm(__global const float* a, int b, __global const float* c, int d, __global float* e, int f, int g, float h, float i) {
  float j = 0.0f;
  int k = get_global_id(0);
  int l = get_global_id(1);

  for (int m = 0; m < g; ++m) {
    float n = a[k + m * b];
    float o = c[l + m * d];
    j += n * o;
  }
  e[k + l * f] = e[k + l * f] * i + h * j;
}
