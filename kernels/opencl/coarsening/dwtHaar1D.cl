/* dwtHaar1D: one pass of a 1-D Haar wavelet decomposition: each work-group transforms its chunk
 * of 2 L samples through up to log2(2 L) levels in local memory.
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "dwtHaar1D", cf = 1 row; identifiers renamed by
 * the data set); the AMD APP SDK's DwtHaar1D kernel (inSignal a, coefsSignal b, AverageSignal c,
 * __local sharedArray d, tLevels e, signalLength f, levelsDone g, mLevels h).
 * Changed: the kernel's name (A -> dwtHaar1D); the body is the data set's, unchanged.
 *
 * On the first pass (g = 0) the samples are scaled by 1/sqrt(f). Level t leaves (u - v)/sqrt(2)
 * detail coefficients at b[f/2^(t+1) + ...] and halves the averages; after min(e, h) levels work
 * item 0 writes the group's remaining average to c[group]. The host sets mLevels h = log2(2 L) for
 * its work-group size L: with that, the coefficients land at their places in the whole signal's
 * transform. So the output depends on the work-group size: another L with the same h computes
 * something else (a smaller one also writes past the end of b). Barriers and local memory: it
 * cannot be coarsened.
 */
__kernel void dwtHaar1D(__global float* a, __global float* b, __global float* c, __local float* d, uint e, uint f, uint g, uint h) {
  size_t i = get_local_id(0);
  size_t j = get_group_id(0);
  size_t k = get_global_id(0);
  size_t l = get_local_size(0);

  float m = a[j * l * 2 + i];
  float n = a[j * l * 2 + l + i];

  if (0 == g) {
    float o = (1.f / sqrt((float)f));
    m *= o;
    n *= o;
  }
  d[i] = m;
  d[l + i] = n;

  barrier(1);

  uint p = e > h ? h : e;
  uint q = (1 << p) / 2;
  uint r = f / 2;

  float s = (1.f / sqrt(2.0f));
  for (uint t = 0; t < p; ++t) {
    float u, v;
    if (i < q) {
      u = d[2 * i];
      v = d[2 * i + 1];
    }

    barrier(1);

    if (i < q) {
      d[i] = (u + v) * s;
      uint w = r + j * q + i;
      b[w] = (u - v) * s;

      r >>= 1;
    }
    q >>= 1;
    barrier(1);
  }

  if (0 == i)
    c[j] = d[0];
}
