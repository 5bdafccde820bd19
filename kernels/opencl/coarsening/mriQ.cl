/* mriQ: the Q matrix of a non-Cartesian MRI reconstruction (Parboil mri-q, ComputeQ): for each
 * image-space point x, Qr(x) += sum_k |phi_k|^2 cos(2 pi k.x) and Qi(x) += sum_k |phi_k|^2 sin(2 pi k.x),
 * over up to 1024 k-space samples per launch.
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "mriQ", cf = 1 row; identifiers renamed by the
 * data set); Parboil's mri-q ComputeQ kernel (numK a, kGlobalIndex b, x c, y d, z e, Qr f, Qi g,
 * kVals h as float4 {Kx, Ky, Kz, PhiMag}), in a form where each work item computes 4 points.
 * Changed: the kernel's name (A -> mriQ); the body is the data set's, unchanged.
 *
 * The body indexes points as get_group_id(0) * 256 + 4 * get_local_id(0) + n: it is written for
 * work-groups of exactly 64 work items (4 points each, 256 per group). Other work-group sizes
 * compute other points (smaller ones also index past the buffers), so only local = [64] gives the
 * intended result. It reads group and local ids, so it cannot be coarsened.
 */
__kernel void mriQ(int a, int b, __global float* c, __global float* d, __global float* e, __global float* f, __global float* g, __global float4* h) {
  float i[4];
  float j[4];
  float k[4];
  float l[4];
  float m[4];

  for (int n = 0; n < 4; n++) {
    int o = get_group_id(0) * 256 + 4 * get_local_id(0) + n;

    i[n] = c[o];
    j[n] = d[o];
    k[n] = e[o];
    l[n] = f[o];
    m[n] = g[o];
  }

  int p = 0;
  for (; (p < 1024) && (b < a); p++, b++) {
    float q = h[p].x;
    float r = h[p].y;
    float s = h[p].z;
    float t = h[p].w;

    for (int n = 0; n < 4; n++) {
      float u = 6.2831853071795864769252867665590058f * (q * i[n] + r * j[n] + s * k[n]);
      l[n] += t * cos(u);
      m[n] += t * sin(u);
    }
  }

  for (int n = 0; n < 4; n++) {
    int o = get_group_id(0) * 256 + 4 * get_local_id(0) + n;
    f[o] = l[n];
    g[o] = m[n];
  }
}
