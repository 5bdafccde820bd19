/* sobel: the Sobel edge detector on an RGBA image (uchar4 pixels), one pixel per work item.
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "sobel", cf = 1 row; identifiers renamed by the
 * data set); the AMD APP SDK's SobelFilter kernel (inputImage a, outputImage b).
 * Changed: the kernel's name (A -> sobel); the body is the data set's, unchanged.
 *
 * Work item (c, d) computes the horizontal and vertical gradients g, h of its 3 x 3 neighbourhood,
 * per channel, and stores hypot(g, h) / 2 converted to uchar4. The image is the launch's size;
 * border pixels are not written. convert_uchar4 does not saturate: a value above 255 is undefined
 * behaviour, so inputs must keep hypot(g, h) / 2 <= 255 (pixels below 90 do: |g|, |h| <= 4 * 89).
 */
__kernel void sobel(__global uchar4* a, __global uchar4* b) {
  uint c = get_global_id(0);
  uint d = get_global_id(1);

  uint e = get_global_size(0);
  uint f = get_global_size(1);

  float4 g = (float4)(0);
  float4 h = g;

  int i = c + d * e;

  if (c >= 1 && c < (e - 1) && d >= 1 && d < f - 1) {
    float4 j = convert_float4(a[i - 1 - e]);
    float4 k = convert_float4(a[i - e]);
    float4 l = convert_float4(a[i + 1 - e]);
    float4 m = convert_float4(a[i - 1]);
    float4 n = convert_float4(a[i]);
    float4 o = convert_float4(a[i + 1]);
    float4 p = convert_float4(a[i - 1 + e]);
    float4 q = convert_float4(a[i + e]);
    float4 r = convert_float4(a[i + 1 + e]);

    g = j + (float4)(2) * k + l - p - (float4)(2) * q - r;

    h = j - l + (float4)(2) * m - (float4)(2) * o + p - r;

    b[i] = convert_uchar4(hypot(g, h) / (float4)(2));
  }
}
