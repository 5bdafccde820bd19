/* mtLocal: matrix transpose of a square float matrix, through local memory (tiles of 4 x 4 floats).
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "mtLocal", cf = 1 row; identifiers renamed by the
 * data set); the AMD APP SDK's MatrixTranspose kernel (output a, input b, __local block c).
 * Changed: the kernel's name (A -> mtLocal), and the four stores' components: the data set's renaming
 * turned the vector components r.x, s.x ... u.w into identifiers rx, sx ... uw, which do not
 * compile; they are r.x ... u.w again. The body is otherwise the data set's.
 *
 * Each work item moves a 4 x 4 block of floats (four float4 rows, d = get_global_size(0) float4
 * per row): it loads them into local memory, and after the barrier writes the transposed block of
 * its mirror work item. Work-groups are square blocks of l x l work items, taken in diagonal order
 * ((group x + group y) mod groups) to spread memory traffic. So the matrix must be square and the
 * work-group square: other (non-square) work-group shapes give wrong results. Barriers and local
 * memory: it cannot be coarsened.
 */
__kernel void mtLocal(__global float4* a, __global float4* b, __local float4* c) {
  uint d = get_global_size(0);

  uint e = get_group_id(0);
  uint f = get_group_id(1);

  uint g = get_num_groups(0);

  uint h = e;
  uint i = (e + f) % g;

  uint j = get_local_id(0);
  uint k = get_local_id(1);

  uint l = get_local_size(0);

  uint m = i * l + j;
  uint n = h * l + k;
  int o = m + (n)*d * 4;

  int p = k * l * 4 + j;
  c[p] = b[o];
  c[p + l] = b[o + d];
  c[p + l * 2] = b[o + d * 2];
  c[p + l * 3] = b[o + d * 3];

  barrier(1);

  m = h * l + j;
  n = i * l + k;
  int q = m + (n)*d * 4;

  p = j * l * 4 + k;
  float4 r = c[p];
  float4 s = c[p + l];
  float4 t = c[p + l * 2];
  float4 u = c[p + l * 3];

  a[q] = (float4)(r.x, s.x, t.x, u.x);
  a[q + d] = (float4)(r.y, s.y, t.y, u.y);
  a[q + d * 2] = (float4)(r.z, s.z, t.z, u.z);
  a[q + d * 3] = (float4)(r.w, s.w, t.w, u.w);
}