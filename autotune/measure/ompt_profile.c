/* autotune's OMPT tool: what one run of an OpenMP program does in parallel (autotune/measure/profile.py).
 *
 * Loaded by the OpenMP runtime through OMP_TOOL_LIBRARIES (the OpenMP 5 tools interface that
 * LLVM's libomp implements), never linked into the program. It counts parallel regions,
 * worksharing-loop instances (each thread's begin) and their iterations, and times the
 * parallel regions and the threads' waits in barriers. At the end it writes one line to the
 * file named by AUTOTUNE_OMPT_OUT:
 *   parallel P loops L iterations I barriers B parallel_s S wait_s W
 */
#include <omp-tools.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static atomic_ullong n_parallel, n_loops, n_iterations, n_barriers;
static _Atomic double parallel_s, wait_s;
static _Thread_local double parallel_start, wait_start;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void add(_Atomic double *sum, double v) {
  double old = atomic_load(sum);
  while (!atomic_compare_exchange_weak(sum, &old, old + v)) {
  }
}

static void on_parallel_begin(ompt_data_t *task, const ompt_frame_t *frame, ompt_data_t *parallel,
                              unsigned int requested, int flags, const void *ra) {
  (void)task, (void)frame, (void)parallel, (void)requested, (void)flags, (void)ra;
  atomic_fetch_add(&n_parallel, 1);
  parallel_start = now(); /* on the encountering thread, which also sees the end */
}

static void on_parallel_end(ompt_data_t *parallel, ompt_data_t *task, int flags, const void *ra) {
  (void)parallel, (void)task, (void)flags, (void)ra;
  add(&parallel_s, now() - parallel_start);
}

static void on_work(ompt_work_t kind, ompt_scope_endpoint_t endpoint, ompt_data_t *parallel, ompt_data_t *task,
                    uint64_t count, const void *ra) {
  (void)parallel, (void)task, (void)ra;
  if (endpoint != ompt_scope_begin)
    return;
  if (kind == ompt_work_loop || (kind >= ompt_work_loop_static && kind <= ompt_work_loop_other)) {
    atomic_fetch_add(&n_loops, 1);
    atomic_fetch_add(&n_iterations, count);
  }
}

static void on_sync(ompt_sync_region_t kind, ompt_scope_endpoint_t endpoint, ompt_data_t *parallel,
                    ompt_data_t *task, const void *ra) {
  (void)kind, (void)parallel, (void)task, (void)ra;
  if (endpoint == ompt_scope_begin)
    atomic_fetch_add(&n_barriers, 1);
}

static void on_wait(ompt_sync_region_t kind, ompt_scope_endpoint_t endpoint, ompt_data_t *parallel,
                    ompt_data_t *task, const void *ra) {
  (void)kind, (void)parallel, (void)task, (void)ra;
  if (endpoint == ompt_scope_begin)
    wait_start = now();
  else
    add(&wait_s, now() - wait_start);
}

static int initialize(ompt_function_lookup_t lookup, int device, ompt_data_t *data) {
  (void)device, (void)data;
  ompt_set_callback_t set = (ompt_set_callback_t)lookup("ompt_set_callback");
  set(ompt_callback_parallel_begin, (ompt_callback_t)on_parallel_begin);
  set(ompt_callback_parallel_end, (ompt_callback_t)on_parallel_end);
  set(ompt_callback_work, (ompt_callback_t)on_work);
  set(ompt_callback_sync_region, (ompt_callback_t)on_sync);
  set(ompt_callback_sync_region_wait, (ompt_callback_t)on_wait);
  return 1; /* keep the tool */
}

static void finalize(ompt_data_t *data) {
  (void)data;
  const char *path = getenv("AUTOTUNE_OMPT_OUT");
  FILE *f = path ? fopen(path, "w") : NULL;
  if (!f)
    return;
  fprintf(f, "parallel %llu loops %llu iterations %llu barriers %llu parallel_s %.9g wait_s %.9g\n",
          (unsigned long long)n_parallel, (unsigned long long)n_loops, (unsigned long long)n_iterations,
          (unsigned long long)n_barriers, (double)parallel_s, (double)wait_s);
  fclose(f);
}

ompt_start_tool_result_t *ompt_start_tool(unsigned int omp_version, const char *runtime_version) {
  (void)omp_version, (void)runtime_version;
  static ompt_start_tool_result_t result = {initialize, finalize, {0}};
  return &result;
}
