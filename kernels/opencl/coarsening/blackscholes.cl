/* blackscholes: European call and put prices by the Black-Scholes formula, one option per loop trip.
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "blackscholes", cf = 1 row; identifiers renamed by
 * the data set). The data set lists it under the AMD APP SDK; its shape (call a, put b, stock price
 * c, strike d, years e, riskless rate f, volatility g, option count h, and a grid-stride loop over
 * the options) is that of the NVIDIA SDK's oclBlackScholes kernel.
 * Changed: the data set cut away the helper that the body calls as A(k): the cumulative normal
 * distribution (AMD's `phi`, NVIDIA's `CND`). It is restored here as `cnd`, the polynomial
 * approximation both SDKs use (Abramowitz and Stegun 26.2.17, error below 7.5e-8), and the two calls
 * now name it. The kernel's name (A -> blackscholes). The body is otherwise the data set's.
 *
 * `cnd` reads no work-item ids, so the kernel can be coarsened; the grid-stride loop reads
 * get_global_size, which coarsening answers with the original size.
 */
float cnd(float d) {
  const float A1 = 0.319381530f;
  const float A2 = -0.356563782f;
  const float A3 = 1.781477937f;
  const float A4 = -1.821255978f;
  const float A5 = 1.330274429f;
  const float RSQRT2PI = 0.39894228040143267793994605993438f;

  float K = 1.0f / (1.0f + 0.2316419f * fabs(d));
  float c = RSQRT2PI * exp(-0.5f * d * d) * (K * (A1 + K * (A2 + K * (A3 + K * (A4 + K * A5)))));
  if (d > 0)
    c = 1.0f - c;
  return c;
}

__kernel void blackscholes(__global float* a, __global float* b, __global float* c, __global float* d, __global float* e, float f, float g, unsigned int h) {
  for (unsigned int i = get_global_id(0); i < h; i += get_global_size(0)) {
    float j = sqrt(e[i]);
    float k = (log(c[i] / d[i]) + (f + 0.5f * g * g) * e[i]) / (g * j);
    float l = k - g * j;
    float m = cnd(k);
    float n = cnd(l);

    float o = exp(-f * e[i]);
    a[i] = (c[i] * m - d[i] * o * n);
    b[i] = (d[i] * o * (1.0f - n) - c[i] * (1.0f - m));
  }
}
