/* clhost.c: run one OpenCL kernel described by a spec file, time it, print checksums of its outputs.
 *
 *   clhost SPEC       build SPEC's kernel, launch it `repeat` times, print its `out` buffers
 *   clhost --query    print the chosen device's facts, one `key value` per line
 *
 * The tuner starts this program once per measurement, so it is one small C file that starts fast and
 * whose stdout depends only on the spec, the kernel and the device's arithmetic, never on the run:
 *
 * - Every launch re-uploads every buffer's initial contents first (blocking writes, outside the timed
 *   region).  Kernels may update buffers in place (y = a*x + y), so without this the output would
 *   depend on `repeat`, and each launch would time different data.
 * - Times come from OpenCL profiling events (COMMAND_END - COMMAND_START of the kernel command alone),
 *   not from host clocks: they leave out the uploads, the queue's latency and this process's start.
 * - The output is a sample plus sums, not the buffers: the tuner verifies every candidate's output
 *   against the untransformed kernel's with a relative tolerance (transformations may reorder
 *   floating-point operations), and a sum, a sum of absolute values and 32 evenly spaced elements catch
 *   wrong results at a few lines per buffer.  Random inputs come from splitmix64, so the data, and with
 *   it the output, are identical in every process on every machine.
 *
 * Spec: one directive per line; a `#` that starts a token starts a comment (so -DX=a#b survives).
 *   source PATH | kernel NAME | options REST-OF-LINE | global G0 [G1 [G2]] | local L0 [L1 [L2]] or auto
 *   repeat N | arg buffer TYPE COUNT INIT... [out] | arg scalar TYPE VALUE | arg local BYTES
 * INIT: zeros | value V | index | arange START STEP | random SEED LO HI.  Integers are stored truncated
 * to the type's width (two's complement); random integers are LO + r % (HI-LO), random reals
 * LO + (HI-LO) * ((r >> 11) * 2^-53) (then rounded to float for float), where element i's r is the
 * (i+1)-th output of splitmix64 seeded with SEED.
 *
 * Built with -DAT_EMBEDDED by a file that defines `at_spec_text` and `at_cl_text` and includes this one,
 * the program takes no argument: its spec and kernel source are inside it (one binary per variant,
 * which the tuner's build cache, timing and verification treat like any C program's).
 *
 * Errors: one line `@autotune error KIND ...` on stderr; exit 2 spec (line 0: the file as a whole),
 * 3 compile (then the build log), 4 launch (any OpenCL call after the build), 5 no-device.  Error paths
 * exit at once and leave the releasing to the OS.  Device: the first device of the first platform that
 * has one, or AUTOTUNE_CL_DEVICE=P:D.
 */
#define _POSIX_C_SOURCE 200809L
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { E_SPEC = 2, E_COMPILE = 3, E_LAUNCH = 4, E_NODEV = 5, MAXARGS = 64, MAXTOK = 16 };

static _Noreturn void die(int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("@autotune error ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(status);
}

static const char *clerr(cl_int e) {
    static char other[32];
#define N(x) \
    case x: return #x;
    switch (e) {
        N(CL_DEVICE_NOT_FOUND) N(CL_DEVICE_NOT_AVAILABLE) N(CL_COMPILER_NOT_AVAILABLE)
        N(CL_MEM_OBJECT_ALLOCATION_FAILURE) N(CL_OUT_OF_RESOURCES) N(CL_OUT_OF_HOST_MEMORY)
        N(CL_PROFILING_INFO_NOT_AVAILABLE) N(CL_BUILD_PROGRAM_FAILURE) N(CL_MISALIGNED_SUB_BUFFER_OFFSET)
        N(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) N(CL_INVALID_VALUE) N(CL_INVALID_DEVICE_TYPE)
        N(CL_INVALID_PLATFORM) N(CL_INVALID_DEVICE) N(CL_INVALID_CONTEXT) N(CL_INVALID_QUEUE_PROPERTIES)
        N(CL_INVALID_COMMAND_QUEUE) N(CL_INVALID_HOST_PTR) N(CL_INVALID_MEM_OBJECT) N(CL_INVALID_BINARY)
        N(CL_INVALID_BUILD_OPTIONS) N(CL_INVALID_PROGRAM) N(CL_INVALID_PROGRAM_EXECUTABLE)
        N(CL_INVALID_KERNEL_NAME) N(CL_INVALID_KERNEL_DEFINITION) N(CL_INVALID_KERNEL) N(CL_INVALID_ARG_INDEX)
        N(CL_INVALID_ARG_VALUE) N(CL_INVALID_ARG_SIZE) N(CL_INVALID_KERNEL_ARGS) N(CL_INVALID_WORK_DIMENSION)
        N(CL_INVALID_WORK_GROUP_SIZE) N(CL_INVALID_WORK_ITEM_SIZE) N(CL_INVALID_GLOBAL_OFFSET)
        N(CL_INVALID_EVENT_WAIT_LIST) N(CL_INVALID_EVENT) N(CL_INVALID_OPERATION) N(CL_INVALID_BUFFER_SIZE)
        N(CL_INVALID_GLOBAL_WORK_SIZE) N(CL_INVALID_PROPERTY) N(CL_INVALID_COMPILER_OPTIONS)
        N(CL_INVALID_LINKER_OPTIONS) N(CL_LINK_PROGRAM_FAILURE)
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    }
#undef N
    snprintf(other, sizeof other, "CL_ERROR_%d", (int)e);
    return other;
}

/* Any OpenCL failure after the build is a launch error naming the call that failed. */
static _Noreturn void die_cl(cl_int e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "@autotune error launch %s (", clerr(e));
    vfprintf(stderr, fmt, ap);
    fputs(")\n", stderr);
    va_end(ap);
    exit(E_LAUNCH);
}
#define CHECK(call, ...)                               \
    do {                                               \
        cl_int e_ = (call);                            \
        if (e_ != CL_SUCCESS) die_cl(e_, __VA_ARGS__); \
    } while (0)

enum kind { SINT, UINT, REAL };
static const struct type {
    const char *name;
    size_t size;
    enum kind kind;
} TYPES[] = {{"char", 1, SINT},  {"uchar", 1, UINT}, {"short", 2, SINT}, {"ushort", 2, UINT},
             {"int", 4, SINT},   {"uint", 4, UINT},  {"long", 8, SINT},  {"ulong", 8, UINT},
             {"float", 4, REAL}, {"double", 8, REAL}};

static void put(const struct type *t, void *base, size_t i, uint64_t iv, double dv) {
    char *p = (char *)base + i * t->size;
    float f = (float)dv;
    uint8_t u8 = (uint8_t)iv;
    uint16_t u16 = (uint16_t)iv;
    uint32_t u32 = (uint32_t)iv;
    if (t->kind == REAL) memcpy(p, t->size == 4 ? (void *)&f : (void *)&dv, t->size);
    else if (t->size == 1) memcpy(p, &u8, 1);
    else if (t->size == 2) memcpy(p, &u16, 2);
    else if (t->size == 4) memcpy(p, &u32, 4);
    else memcpy(p, &iv, 8);
}

static double get_real(const struct type *t, const void *base, size_t i) {
    const char *p = (const char *)base + i * t->size;
    float f;
    double d;
    if (t->size == 4) return memcpy(&f, p, 4), (double)f;
    return memcpy(&d, p, 8), d;
}

static uint64_t get_int(const struct type *t, const void *base, size_t i) { /* sign-extended for SINT */
    const char *p = (const char *)base + i * t->size;
    int8_t s8; int16_t s16; int32_t s32; int64_t s64; uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64;
    switch (t->size * 2 + (t->kind == UINT)) {
    case 2: return memcpy(&s8, p, 1), (uint64_t)s8;
    case 3: return memcpy(&u8, p, 1), u8;
    case 4: return memcpy(&s16, p, 2), (uint64_t)s16;
    case 5: return memcpy(&u16, p, 2), u16;
    case 8: return memcpy(&s32, p, 4), (uint64_t)s32;
    case 9: return memcpy(&u32, p, 4), u32;
    case 16: return memcpy(&s64, p, 8), (uint64_t)s64;
    default: return memcpy(&u64, p, 8), u64;
    }
}

static uint64_t splitmix64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* c + a*b rounded twice, never fused into an fma (which -march or -ffp-contract could otherwise choose), so the
 * inputs are bit-identical whatever compiled this file. */
static double mul_add(double a, double b, double c) {
    volatile double product = a * b;
    return product + c;
}

enum argkind { A_BUFFER, A_SCALAR, A_LOCAL };
struct arg {
    enum argkind kind;
    const struct type *type;
    size_t count; /* buffer: elements; local: bytes */
    int out;
    void *host; /* buffer: the initial contents (the output after the last launch) */
    cl_mem mem;
    unsigned char scalar[8];
};

struct spec {
    char *source_path, *kernel, *options;
    int source_line, local_line, nargs;
    cl_uint dims, local_dims;
    int local_auto;
    size_t global[3], local[3];
    unsigned long repeat;
    struct arg args[MAXARGS];
};

static int line_no; /* of the spec line being parsed, for error messages */

static uint64_t parse_int(const char *s, const char *what) { /* any integer, as its 64-bit pattern */
    char *end;
    uint64_t v;
    errno = 0;
    v = *s == '-' ? (uint64_t)strtoll(s, &end, 10) : strtoull(s, &end, 10);
    if (end == s || *end || errno) die(E_SPEC, "spec %d: bad %s '%s'", line_no, what, s);
    return v;
}

static size_t parse_pos(const char *s, const char *what) {
    uint64_t v = parse_int(s, what);
    if (*s == '-' || v == 0 || v > SIZE_MAX) die(E_SPEC, "spec %d: %s must be positive: '%s'", line_no, what, s);
    return (size_t)v;
}

static double parse_real(const char *s, const char *what) {
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE) die(E_SPEC, "spec %d: bad %s '%s'", line_no, what, s);
    return v;
}

static const struct type *parse_type(const char *s) {
    for (size_t i = 0; i < sizeof TYPES / sizeof *TYPES; i++)
        if (!strcmp(s, TYPES[i].name)) return &TYPES[i];
    die(E_SPEC, "spec %d: unknown type '%s'", line_no, s);
}

/* arg buffer TYPE COUNT INIT... [out]: allocate and fill the host copy. */
static void parse_buffer(struct arg *a, char **tok, int nt) {
    static const char *inits[] = {"zeros", "value", "index", "arange", "random"};
    static const int nparams[] = {0, 1, 0, 2, 3};
    const struct type *t = a->type = parse_type(tok[2]);
    int init = -1, real = t->kind == REAL;
    a->count = parse_pos(tok[3], "count");
    if ((a->out = !strcmp(tok[nt - 1], "out"))) nt--;
    for (int i = 0; i < 5; i++)
        if (!strcmp(tok[4], inits[i])) init = i;
    if (init < 0) die(E_SPEC, "spec %d: unknown init '%s'", line_no, tok[4]);
    if (nt != 5 + nparams[init]) die(E_SPEC, "spec %d: init '%s' takes %d values", line_no, tok[4], nparams[init]);
    if (a->count > SIZE_MAX / t->size || !(a->host = calloc(a->count, t->size)))
        die_cl(CL_OUT_OF_HOST_MEMORY, "host copy of %zu %s", a->count, t->name);
    uint64_t i0 = 0, i1 = 0, state = 0;
    double d0 = 0, d1 = 0;
    if (nparams[init] >= 1) {
        int k = init == 4 ? 6 : 5; /* random: SEED then LO HI */
        if (init == 4) state = parse_int(tok[5], "seed");
        if (real) d0 = parse_real(tok[k], "value"), d1 = nparams[init] > 1 ? parse_real(tok[k + 1], "value") : 0;
        else i0 = parse_int(tok[k], "value"), i1 = nparams[init] > 1 ? parse_int(tok[k + 1], "value") : 0;
    }
    if (init == 4 && (real ? !(d1 > d0) : t->kind == UINT ? i1 <= i0 : (int64_t)i1 <= (int64_t)i0))
        die(E_SPEC, "spec %d: random needs LO < HI", line_no);
    for (size_t i = 0; i < a->count; i++) {
        uint64_t r = init == 4 ? splitmix64(&state) : 0;
        switch (init) {
        case 1: put(t, a->host, i, i0, d0); break;
        case 2: put(t, a->host, i, i, (double)i); break;
        case 3: put(t, a->host, i, i0 + i * i1, mul_add((double)i, d1, d0)); break;
        case 4:
            put(t, a->host, i, real ? 0 : i0 + r % (i1 - i0), mul_add(d1 - d0, (double)(r >> 11) * 0x1.0p-53, d0));
            break;
        default: break; /* zeros: calloc */
        }
    }
}

static void parse_sizes(size_t *out, cl_uint *dims, char **tok, int nt, const char *what) {
    if (nt < 2 || nt > 4) die(E_SPEC, "spec %d: '%s' takes 1 to 3 sizes", line_no, what);
    if (*dims) die(E_SPEC, "spec %d: duplicate '%s'", line_no, what);
    *dims = (cl_uint)(nt - 1);
    for (int i = 1; i < nt; i++) out[i - 1] = parse_pos(tok[i], what);
}

static char *once(char *old, const char *value, const char *what) {
    if (old) die(E_SPEC, "spec %d: duplicate '%s'", line_no, what);
    char *s = strdup(value);
    if (!s) die(E_SPEC, "spec %d: out of memory", line_no);
    return s;
}

static void parse_spec(FILE *f, struct spec *s, int need_source) {
    char *line = NULL, *tok[MAXTOK];
    size_t cap = 0;
    while (getline(&line, &cap, f) != -1) {
        char *p = line, *end;
        int nt = 0;
        line_no++;
        for (char *c = line; *c; c++)
            if (*c == '#' && (c == line || isspace((unsigned char)c[-1]))) *c = 0;
        for (end = line + strlen(line); end > line && isspace((unsigned char)end[-1]);) *--end = 0;
        while (isspace((unsigned char)*p)) p++;
        if (!*p) continue;
        if (!strncmp(p, "options", 7) && (!p[7] || isspace((unsigned char)p[7]))) {
            for (p += 7; isspace((unsigned char)*p); p++) {}
            s->options = once(s->options, p, "options");
            continue;
        }
        while (*p) {
            if (nt == MAXTOK) die(E_SPEC, "spec %d: too many words", line_no);
            tok[nt++] = p;
            while (*p && !isspace((unsigned char)*p)) p++;
            if (*p) *p++ = 0;
            while (isspace((unsigned char)*p)) p++;
        }
        if (!strcmp(tok[0], "source") && nt == 2)
            s->source_path = once(s->source_path, tok[1], "source"), s->source_line = line_no;
        else if (!strcmp(tok[0], "kernel") && nt == 2) s->kernel = once(s->kernel, tok[1], "kernel");
        else if (!strcmp(tok[0], "global")) parse_sizes(s->global, &s->dims, tok, nt, "global");
        else if (!strcmp(tok[0], "local")) {
            s->local_line = line_no;
            if (nt == 2 && !strcmp(tok[1], "auto") && !s->local_dims) s->local_auto = 1, s->local_dims = 1;
            else parse_sizes(s->local, &s->local_dims, tok, nt, "local");
        } else if (!strcmp(tok[0], "repeat") && nt == 2) {
            if (s->repeat) die(E_SPEC, "spec %d: duplicate 'repeat'", line_no);
            s->repeat = parse_pos(tok[1], "repeat");
        } else if (!strcmp(tok[0], "arg") && nt >= 2) {
            if (s->nargs == MAXARGS) die(E_SPEC, "spec %d: more than %d args", line_no, MAXARGS);
            struct arg *a = &s->args[s->nargs++];
            if (!strcmp(tok[1], "buffer") && nt >= 5) a->kind = A_BUFFER, parse_buffer(a, tok, nt);
            else if (!strcmp(tok[1], "local") && nt == 3) a->kind = A_LOCAL, a->count = parse_pos(tok[2], "bytes");
            else if (!strcmp(tok[1], "scalar") && nt == 4) {
                const struct type *t = a->type = parse_type(tok[2]);
                a->kind = A_SCALAR;
                put(t, a->scalar, 0, t->kind == REAL ? 0 : parse_int(tok[3], "value"),
                    t->kind == REAL ? parse_real(tok[3], "value") : 0);
            } else die(E_SPEC, "spec %d: bad arg (arg buffer|scalar|local ...)", line_no);
        } else if (!strcmp(tok[0], "source") || !strcmp(tok[0], "kernel") || !strcmp(tok[0], "repeat"))
            die(E_SPEC, "spec %d: '%s' takes one value", line_no, tok[0]);
        else die(E_SPEC, "spec %d: unknown directive '%s'", line_no, tok[0]);
    }
    free(line);
    fclose(f);
    if ((need_source && !s->source_path) || !s->kernel || !s->dims)
        die(E_SPEC, "spec 0: missing '%s'", !s->kernel ? "kernel" : !s->dims ? "global" : "source");
    if (s->local_dims && !s->local_auto && s->local_dims != s->dims)
        die(E_SPEC, "spec %d: local has %u sizes, global %u", s->local_line, s->local_dims, s->dims);
}

static char *read_file(const char *path, size_t *len, int line) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) || !(buf = malloc((size_t)n + 1)) ||
        fread(buf, 1, (size_t)n, f) != (size_t)n)
        die(E_SPEC, "spec %d: cannot read %s: %s", line, path, strerror(errno));
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

static cl_device_id pick_device(cl_platform_id *platform) {
    cl_platform_id plats[64];
    cl_uint np = 0, nd = 0, want_p = 0, want_d = 0;
    cl_device_id devs[64];
    const char *env = getenv("AUTOTUNE_CL_DEVICE");
    int used = -1;
    cl_int e = clGetPlatformIDs(64, plats, &np);
    if (e != CL_SUCCESS || np == 0) die(E_NODEV, "no-device no OpenCL platform (%s)", clerr(e));
    if (np > 64) np = 64;
    if (env && (sscanf(env, "%u:%u%n", &want_p, &want_d, &used) != 2 || env[used]))
        die(E_NODEV, "no-device AUTOTUNE_CL_DEVICE='%s' is not P:D", env);
    for (cl_uint p = env ? want_p : 0; p < np && (!env || p == want_p); p++) {
        if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 64, devs, &nd) != CL_SUCCESS || nd == 0) continue;
        if (nd > 64) nd = 64;
        if (env && want_d >= nd) break;
        *platform = plats[p];
        return devs[env ? want_d : 0];
    }
    if (env) die(E_NODEV, "no-device AUTOTUNE_CL_DEVICE=%s: no such device", env);
    die(E_NODEV, "no-device no platform has a device");
}

static void info_str(cl_device_id d, cl_device_info key, char *buf, size_t n) {
    if (clGetDeviceInfo(d, key, n, buf, NULL) != CL_SUCCESS) snprintf(buf, n, "unknown");
    buf[n - 1] = 0;
}

static int query(void) {
    cl_platform_id plat;
    cl_device_id d = pick_device(&plat);
    char s[1024];
    cl_device_type type = 0;
    cl_uint dims = 0, units = 0;
    size_t wg = 0, sizes[16] = {0};
    cl_ulong local = 0, global = 0;
    if (clGetPlatformInfo(plat, CL_PLATFORM_NAME, sizeof s, s, NULL) != CL_SUCCESS) snprintf(s, sizeof s, "unknown");
    printf("platform %s\n", s);
    info_str(d, CL_DEVICE_NAME, s, sizeof s), printf("device %s\n", s);
    info_str(d, CL_DEVICE_VENDOR, s, sizeof s), printf("vendor %s\n", s);
    info_str(d, CL_DEVICE_VERSION, s, sizeof s), printf("version %s\n", s);
    info_str(d, CL_DRIVER_VERSION, s, sizeof s), printf("driver %s\n", s);
    CHECK(clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL), "clGetDeviceInfo");
    CHECK(clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL), "clGetDeviceInfo");
    CHECK(clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_ITEM_DIMENSIONS, sizeof dims, &dims, NULL), "clGetDeviceInfo");
    CHECK(clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof sizes, sizes, NULL), "clGetDeviceInfo");
    CHECK(clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL), "clGetDeviceInfo");
    CHECK(clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL), "clGetDeviceInfo");
    CHECK(clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL), "clGetDeviceInfo");
    printf("type %s\n", type & CL_DEVICE_TYPE_GPU ? "gpu" : type & CL_DEVICE_TYPE_CPU ? "cpu"
                        : type & CL_DEVICE_TYPE_ACCELERATOR ? "accelerator" : "other");
    printf("max_work_group_size %zu\nmax_work_item_dimensions %u\nmax_work_item_sizes", wg, dims);
    for (cl_uint i = 0; i < dims && i < 16; i++) printf(" %zu", sizes[i]);
    printf("\nlocal_mem_size %llu\nglobal_mem_size %llu\ncompute_units %u\n", (unsigned long long)local,
           (unsigned long long)global, units);
    return 0;
}

static void print_out(int index, const struct arg *a) {
    const struct type *t = a->type;
    size_t n = a->count < 32 ? a->count : 32;
    printf("out %d %s %zu ", index, t->name, a->count);
    if (t->kind == REAL) {
        double sum = 0, abs = 0;
        for (size_t i = 0; i < a->count; i++) sum += get_real(t, a->host, i), abs += fabs(get_real(t, a->host, i));
        printf("sum=%.17g abs=%.17g\n", sum, abs);
    } else {
        uint64_t sum = 0, abs = 0; /* wrapping sums */
        for (size_t i = 0; i < a->count; i++) {
            uint64_t v = get_int(t, a->host, i);
            sum += v, abs += t->kind == SINT && (int64_t)v < 0 ? 0 - v : v;
        }
        if (t->kind == SINT) printf("sum=%lld abs=%llu\n", (long long)sum, (unsigned long long)abs);
        else printf("sum=%llu abs=%llu\n", (unsigned long long)sum, (unsigned long long)abs);
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = a->count < 32 ? k : (size_t)((unsigned long long)k * a->count / 32);
        if (k) putchar(' ');
        if (t->kind == REAL) printf("%.9g", get_real(t, a->host, i));
        else if (t->kind == SINT) printf("%lld", (long long)get_int(t, a->host, i));
        else printf("%llu", (unsigned long long)get_int(t, a->host, i));
    }
    putchar('\n');
}

int main(int argc, char **argv) {
    static struct spec s; /* static: zero-initialized */
    cl_int e;
    if (argc == 2 && !strcmp(argv[1], "--query")) return query();
#ifdef AT_EMBEDDED
    /* a variant's own program: the spec and the kernel source were compiled in (autotune.gpu.program) */
    if (argc != 1) die(E_SPEC, "spec 0: usage: %s (the spec is built in) | %s --query", argv[0], argv[0]);
    FILE *f = fmemopen((void *)at_spec_text, strlen(at_spec_text), "r");
    if (!f) die(E_SPEC, "spec 0: cannot read the built-in spec: %s", strerror(errno));
    parse_spec(f, &s, 0);
    size_t src_len = strlen(at_cl_text);
    char *src = NULL;
    const char *csrc = at_cl_text;
#else
    if (argc != 2) die(E_SPEC, "spec 0: usage: clhost SPEC | clhost --query");
    FILE *f = fopen(argv[1], "r");
    if (!f) die(E_SPEC, "spec 0: cannot open %s: %s", argv[1], strerror(errno));
    parse_spec(f, &s, 1);
    size_t src_len;
    char *src = read_file(s.source_path, &src_len, s.source_line);
    const char *csrc = src;
#endif

    cl_platform_id plat;
    cl_device_id dev = pick_device(&plat);
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)plat, 0};
    cl_context ctx = clCreateContext(props, 1, &dev, NULL, NULL, &e);
    if (e != CL_SUCCESS) die(E_NODEV, "no-device clCreateContext failed (%s)", clerr(e));
    cl_command_queue q = clCreateCommandQueue(ctx, dev, CL_QUEUE_PROFILING_ENABLE, &e);
    if (e != CL_SUCCESS) die(E_NODEV, "no-device clCreateCommandQueue failed (%s)", clerr(e));

    cl_program prog = clCreateProgramWithSource(ctx, 1, &csrc, &src_len, &e);
    if (e != CL_SUCCESS) die(E_COMPILE, "compile %s (clCreateProgramWithSource)", clerr(e));
    e = clBuildProgram(prog, 1, &dev, s.options ? s.options : "", NULL, NULL);
    if (e != CL_SUCCESS) {
        size_t n = 0;
        char *log = NULL, *first;
        if (!clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, 0, NULL, &n) && (log = calloc(n + 1, 1)))
            clGetProgramBuildInfo(prog, dev, CL_PROGRAM_BUILD_LOG, n, log, NULL);
        for (first = log ? log : ""; isspace((unsigned char)*first); first++) {}
        fprintf(stderr, "@autotune error compile %.*s\n", *first ? (int)strcspn(first, "\r\n") : -1,
                *first ? first : clerr(e));
        if (log) fputs(log, stderr);
        return E_COMPILE;
    }
    cl_kernel k = clCreateKernel(prog, s.kernel, &e);
    CHECK(e, "clCreateKernel %s", s.kernel);

    for (int i = 0; i < s.nargs; i++) {
        struct arg *a = &s.args[i];
        if (a->kind == A_BUFFER) {
            a->mem = clCreateBuffer(ctx, CL_MEM_READ_WRITE, a->count * a->type->size, NULL, &e);
            CHECK(e, "clCreateBuffer arg %d", i);
            CHECK(clSetKernelArg(k, (cl_uint)i, sizeof a->mem, &a->mem), "clSetKernelArg %d", i);
        } else if (a->kind == A_SCALAR) {
            CHECK(clSetKernelArg(k, (cl_uint)i, a->type->size, a->scalar), "clSetKernelArg %d", i);
        } else {
            CHECK(clSetKernelArg(k, (cl_uint)i, a->count, NULL), "clSetKernelArg %d", i); /* __local: size only */
        }
    }

    cl_ulong total = 0;
    for (unsigned long r = 0; r < (s.repeat ? s.repeat : 1); r++) {
        cl_event ev;
        cl_ulong t0, t1;
        cl_int status;
        for (int i = 0; i < s.nargs; i++)
            if (s.args[i].kind == A_BUFFER)
                CHECK(clEnqueueWriteBuffer(q, s.args[i].mem, CL_TRUE, 0, s.args[i].count * s.args[i].type->size,
                                           s.args[i].host, 0, NULL, NULL), "clEnqueueWriteBuffer arg %d", i);
        CHECK(clEnqueueNDRangeKernel(q, k, s.dims, NULL, s.global, s.local_auto || !s.local_dims ? NULL : s.local, 0,
                                     NULL, &ev), "clEnqueueNDRangeKernel");
        CHECK(clWaitForEvents(1, &ev), "clWaitForEvents");
        CHECK(clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL), "clGetEventInfo");
        if (status < 0) die_cl(status, "kernel execution");
        CHECK(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL), "clGetEventProfilingInfo");
        CHECK(clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL), "clGetEventProfilingInfo");
        total += t1 - t0;
        CHECK(clReleaseEvent(ev), "clReleaseEvent");
    }
    for (int i = 0; i < s.nargs; i++) { /* read into the host copies: the initial data is no longer needed */
        struct arg *a = &s.args[i];
        if (a->kind != A_BUFFER || !a->out) continue;
        CHECK(clEnqueueReadBuffer(q, a->mem, CL_TRUE, 0, a->count * a->type->size, a->host, 0, NULL, NULL),
              "clEnqueueReadBuffer arg %d", i);
        print_out(i, a);
    }
    fflush(stdout);
    fprintf(stderr, "@autotune region kernel %.9e\n", (double)total * 1e-9);

    for (int i = 0; i < s.nargs; i++) {
        if (s.args[i].mem) clReleaseMemObject(s.args[i].mem);
        free(s.args[i].host);
    }
    clReleaseKernel(k);
    clReleaseProgram(prog);
    clReleaseCommandQueue(q);
    clReleaseContext(ctx);
    free(src);
    free(s.source_path), free(s.kernel), free(s.options);
    return ferror(stdout) ? E_LAUNCH : 0;
}
