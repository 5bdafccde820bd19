/* convolution: a 2-D non-separable convolution of a uint image with a float mask, one output
 * pixel per work item, rounded to int.
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "convolution", cf = 1 row; identifiers renamed by
 * the data set); the AMD APP SDK's SimpleConvolution (input a, padded to a row pitch of f elements,
 * mask b, output c).
 * Changed: the kernel's name (A -> convolution), and its two by-value uint2 parameters,
 * d = inputDimensions (width, height) and e = maskDimensions (width, height), are passed as four
 * uint scalars dx, dy, ex, ey, because autotune's host program sets scalar arguments only; the
 * body reads d.x, d.y, e.x, e.y from them and is otherwise the data set's.
 *
 * Work item g computes output pixel (g % width, g / width) from the mask-sized window whose top-left
 * corner is that pixel in the padded input: the input has (height + maskHeight - 1) rows of f =
 * width + maskWidth - 1 elements.
 */
__kernel void convolution(__global uint* a, __global float* b, __global int* c, const uint dx, const uint dy, const uint ex, const uint ey, const uint f) {
  uint g = get_global_id(0);

  uint h = dx;
  uint i = dy;

  uint j = g % h;
  uint k = g / h;

  uint l = ex;
  uint m = ey;

  if (j >= h || k >= i)
    return;

  float n = 0.0f;
  int o = 0, p = 0;

  for (uint q = k; q < (k + m); ++q, o++) {
    p = 0;
    for (uint r = j; r < (j + l); ++r, p++) {
      uint s = o * l + p;
      uint t = q * f + r;

      n += ((float)a[t] * b[s]);
    }
  }

  n += 0.5f;
  c[g] = (int)n;
}
