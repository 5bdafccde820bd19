"""GPU kernels: OpenCL and CUDA."""
