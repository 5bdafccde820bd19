/* nbody: one time step of an all-pairs gravitational N-body simulation, one body per work item.
 *
 * Origin: the thread-coarsening data set of Magni, Dubach and O'Boyle (PACT'14), as DeepTune
 * distributes it (pact-2014-runtimes.csv, kernel "nbody", cf = 1 row; identifiers renamed by the
 * data set); the AMD APP SDK's NBody kernel (pos a, vel b, numBodies c, deltaTime d, epsSqr e,
 * newPosition f, newVelocity g), in its form without local memory, the body loop unrolled by 8.
 * Changed: the kernel's name (A -> nbody); the body is the data set's, unchanged.
 *
 * Body h (position xyz, mass w) sums the accelerations m.w (r^2 + e)^(-3/2) r from every body,
 * then moves by velocity d + acceleration d^2 / 2. New positions and velocities go to separate
 * buffers (f, g), so the step is race-free. There is no bound check: launch exactly c work items.
 */
__kernel void nbody(__global float4* a, __global float4* b, unsigned int c, float d, float e, __global float4* f, __global float4* g) {
  unsigned int h = get_global_id(0);
  float4 i = a[h];
  float4 j = (float4)0.0f;

  unsigned int k = 0;
  for (; (k + 8) < c;) {
    for (int l = 0; l < 8; l++, k++) {
      float4 m = a[k];
      float4 n;
      n.xyz = m.xyz - i.xyz;
      float o = n.x * n.x + n.y * n.y + n.z * n.z;

      float p = 1.0f / sqrt(o + e);
      float q = p * p * p;
      float r = m.w * q;

      j.xyz += r * n.xyz;
    }
  }
  for (; k < c; k++) {
    float4 m = a[k];

    float4 n;
    n.xyz = m.xyz - i.xyz;
    float o = n.x * n.x + n.y * n.y + n.z * n.z;

    float p = 1.0f / sqrt(o + e);
    float q = p * p * p;
    float r = m.w * q;

    j.xyz += r * n.xyz;
  }

  float4 s = b[h];

  float4 t;
  t.xyz = i.xyz + s.xyz * d + j.xyz * 0.5f * d * d;
  t.w = i.w;

  float4 u;
  u.xyz = s.xyz + j.xyz * d;
  u.w = s.w;

  f[h] = t;
  g[h] = u;
}
