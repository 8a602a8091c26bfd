#ifdef USE_DOUBLE
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double real;
#else
typedef float real;
#endif
// No fused multiply-add: round exactly as the CPU stages do.
#pragma OPENCL FP_CONTRACT OFF

// Indices are 64-bit (long): with 32-bit ints, i * nx + j wraps from nx = 46341
// on, and a device with that much memory would read and write out of bounds.
__kernel void heat_update(__global const real *current, __global real *next,
                          const long nx, const real gamma, const real centre_weight)
{
    const long j = get_global_id(0) + 1;   // column, skipping the left edge
    const long i = get_global_id(1) + 1;   // row, skipping the bottom edge
    if (i >= nx - 1 || j >= nx - 1) return;   // work items beyond the interior
    const long c = i * nx + j;
    const real neighbours = gamma * (current[c + nx] + current[c - nx] + current[c + 1] + current[c - 1]);
    // At gamma = 1/4 the centre's weight is exactly 0: skip its load, multiply
    // and add, as the CPU's typed loop does (every work item takes the same branch).
    next[c] = centre_weight == 0 ? neighbours : neighbours + centre_weight * current[c];
}
