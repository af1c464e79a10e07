/* harness.c - runs a tyboxc model once on a bare-metal Cortex-M under qemu.
 *
 *   qemu-system-arm -M mps2-an386 -nographic \
 *       -semihosting-config enable=on,target=native,arg=model.elf[,arg=IN.bin[,arg=OUT.bin]] \
 *       -kernel model.elf
 *
 * The inputs come from IN.bin, read through semihosting (every input in graph
 * order as raw little-endian elements, the layout of the host model_run's
 * IN.bin; only the first sample is used), or, without IN.bin, from the
 * sample built in with gen_io.py --input. The harness prints every output
 * element, exact bits included, then
 *     phase NAME N   SysTick ticks of each phase cm_run() marked (cm_phase:
 *                    a model with a trainable tail marks its inference, its
 *                    pushes and its training step apart)
 *     ticks N        SysTick ticks at the core clock spent in cm_run()
 *     stack_bytes N  the deepest stack use seen (the stack is painted first;
 *                    a run that reached the bottom of the stack is an error)
 * and with OUT.bin also writes the outputs there, raw, as model_run does.
 * qemu's exit status is 0 on success, 1 on any error.
 */
#include <string.h>

#include "cortexm.h"
#include "semihost.h"

extern uint32_t __stack_bottom[], __stack_top[];

#define MAX_ARGS 4
#define MAX_PHASES 8
#define STACK_PAINT 0x5AA5C33Cu

static struct {
    const char *name;
    uint64_t ticks;
} phases[MAX_PHASES];
static int num_phases;
static uint64_t phase_ticks; /* ticks of the phases marked so far */

static void fail(const char *what, const char *detail) {
    cm_puts("error: ");
    cm_puts(what);
    cm_puts(detail);
    cm_puts("\n");
    cm_exit(1);
}

/* ---- number formatting (no printf: keeps newlib's stdio out of the image) ---- */

static char *put_u64(char *p, uint64_t x) {
    char digits[20];
    int n = 0;
    do {
        digits[n++] = (char)('0' + x % 10);
        x /= 10;
    } while (x);
    while (n) *p++ = digits[--n];
    return p;
}

static char *put_i64(char *p, int64_t x) {
    if (x < 0) {
        *p++ = '-';
        return put_u64(p, (uint64_t)0 - (uint64_t)x);
    }
    return put_u64(p, (uint64_t)x);
}

static char *put_hex(char *p, uint64_t x, int digits) {
    *p++ = '0';
    *p++ = 'x';
    while (digits--) *p++ = "0123456789abcdef"[(x >> (4 * digits)) & 15];
    return p;
}

/* v as d.dddddde+XX, for reading: the scaling by 10 rounds, so the last digit
 * may be off; the hex bits printed beside it are exact. */
static char *put_f32(char *p, float v) {
    uint32_t bits, m;
    int e = 0;
    memcpy(&bits, &v, sizeof bits);
    if ((bits & 0x7F800000u) == 0x7F800000u) {
        const char *s = bits & 0x007FFFFFu ? "nan" : bits >> 31 ? "-inf" : "inf";
        while (*s) *p++ = *s++;
        return p;
    }
    if (bits >> 31) {
        *p++ = '-';
        v = -v;
    }
    if (v != 0.0f) {
        while (v >= 10.0f) v /= 10.0f, e++;
        while (v < 1.0f) v *= 10.0f, e--;
    }
    m = (uint32_t)(v * 1e6f + 0.5f);
    if (m >= 10000000u) m /= 10, e++;
    *p++ = (char)('0' + m / 1000000u);
    *p++ = '.';
    for (uint32_t d = 100000u; d; d /= 10) *p++ = (char)('0' + m / d % 10);
    *p++ = 'e';
    *p++ = e < 0 ? '-' : '+';
    if (e < 0) e = -e;
    *p++ = (char)('0' + e / 10);
    *p++ = (char)('0' + e % 10);
    return p;
}

/* "out0[3] = -1.234567e+00 (0xbf9e0419)" for floats, "out0[3] = -12" else. */
static void print_element(int k, size_t i, const cm_tensor *t) {
    char line[96], *p = line;
    const unsigned char *at = (const unsigned char *)t->data + i * t->elem_size;
    memcpy(p, "out", 3), p += 3;
    p = put_u64(p, (uint64_t)k);
    *p++ = '[';
    p = put_u64(p, i);
    memcpy(p, "] = ", 4), p += 4;
    switch (t->type) {
    case CM_F32: {
        float v;
        uint32_t b;
        memcpy(&v, at, 4);
        memcpy(&b, at, 4);
        p = put_f32(p, v);
        memcpy(p, " (", 2), p += 2;
        p = put_hex(p, b, 8);
        *p++ = ')';
        break;
    }
    case CM_F64: { uint64_t b; memcpy(&b, at, 8); p = put_hex(p, b, 16); break; }
    case CM_I8: p = put_i64(p, *(const int8_t *)at); break;
    case CM_U8: p = put_u64(p, *(const uint8_t *)at); break;
    case CM_I16: { int16_t x; memcpy(&x, at, 2); p = put_i64(p, x); break; }
    case CM_U16: { uint16_t x; memcpy(&x, at, 2); p = put_u64(p, x); break; }
    case CM_I32: { int32_t x; memcpy(&x, at, 4); p = put_i64(p, x); break; }
    case CM_U32: { uint32_t x; memcpy(&x, at, 4); p = put_u64(p, x); break; }
    case CM_I64: { int64_t x; memcpy(&x, at, 8); p = put_i64(p, x); break; }
    default: { uint64_t x; memcpy(&x, at, 8); p = put_u64(p, x); break; }
    }
    *p++ = '\n';
    *p = 0;
    cm_puts(line);
}

/* "# out0: output, 10 elements" */
static void print_header(int k, const cm_tensor *t) {
    char line[40], *p = line;
    memcpy(p, "# out", 5), p += 5;
    p = put_u64(p, (uint64_t)k);
    *p++ = ':';
    *p++ = ' ';
    *p = 0;
    cm_puts(line);
    cm_puts(t->name);
    p = line;
    *p++ = ',';
    *p++ = ' ';
    p = put_u64(p, t->count);
    memcpy(p, " elements\n", 11);
    cm_puts(line);
}

static void print_figure(const char *name, uint64_t x) {
    char line[64], *p = line;
    size_t n = strlen(name);
    memcpy(p, name, n), p += n;
    *p++ = ' ';
    p = put_u64(p, x);
    *p++ = '\n';
    *p = 0;
    cm_puts(line);
}

/* ---- inputs and outputs ------------------------------------------------------ */

/* Split the command line in place at spaces (paths must not hold any). */
static int split_args(char *line, char **argv) {
    int argc = 0;
    while (*line && argc < MAX_ARGS) {
        while (*line == ' ') *line++ = 0;
        if (!*line) break;
        argv[argc++] = line;
        while (*line && *line != ' ') line++;
    }
    return argc;
}

static void read_inputs(const char *path) {
    int fd = -1;
    size_t at = 0;
    if (path) {
        fd = cm_open(path, "rb");
        if (fd < 0) fail("cannot open ", path);
    } else if (!cm_embedded_bytes && cm_num_inputs) {
        fail("no input: pass IN.bin as a semihosting argument or build with an embedded one", "");
    }
    for (int k = 0; k < cm_num_inputs; k++) {
        const cm_tensor *t = &cm_inputs[k];
        size_t bytes = t->count * t->elem_size;
        if (fd >= 0) {
            if (cm_read(fd, t->data, bytes) != bytes) fail("input file ends inside the first sample: ", path);
        } else {
            if (at + bytes > cm_embedded_bytes) fail("the embedded input is too short", "");
            memcpy(t->data, cm_embedded + at, bytes);
            at += bytes;
        }
    }
    if (fd >= 0) cm_close(fd);
}

static void write_outputs(const char *path) {
    int fd = cm_open(path, "wb");
    if (fd < 0) fail("cannot create ", path);
    for (int k = 0; k < cm_num_outputs; k++) {
        size_t bytes = cm_outputs[k].count * cm_outputs[k].elem_size;
        if (cm_write(fd, cm_outputs[k].data, bytes) != bytes) fail("cannot write ", path);
    }
    cm_close(fd);
}

/* ---- stack use: paint below the current frame, run, find the deepest write ---- */

static void paint_stack(void) {
    volatile uint32_t here = 0;
    uint32_t *p = __stack_bottom;
    /* stop 256 bytes short of this frame: what is above is in use */
    while ((uintptr_t)(p + 64) < (uintptr_t)&here) *p++ = STACK_PAINT;
}

static size_t stack_used(void) {
    const uint32_t *p = __stack_bottom;
    while (p < __stack_top && *p == STACK_PAINT) p++;
    return (size_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

/* ---- phases: the counter restarts at each mark, so a phase's ticks include
 * a few instructions of the mark itself ---------------------------------------- */

void cm_phase(const char *name) {
    uint64_t t = cm_ticks_stop();
    if (num_phases == MAX_PHASES) fail("too many phases marked: ", name);
    phases[num_phases].name = name;
    phases[num_phases++].ticks = t;
    phase_ticks += t;
    cm_ticks_start();
}

int main(void) {
    char line[256], *argv[MAX_ARGS];
    int argc = 0;
    uint64_t ticks;
    const char *error;

    if (cm_cmdline(line, sizeof line) == 0) argc = split_args(line, argv);
    read_inputs(argc > 1 ? argv[1] : NULL);
    paint_stack();
    cm_ticks_start();
    error = cm_run();
    ticks = phase_ticks + cm_ticks_stop();
    /* the lowest word written: the stack may have run into what lies below */
    if (__stack_bottom[0] != STACK_PAINT) fail("the stack overflowed: raise STACK_SIZE (tools/cortexm/Makefile)", "");
    if (error) fail(error, "");
    for (int k = 0; k < cm_num_outputs; k++) {
        print_header(k, &cm_outputs[k]);
        for (size_t i = 0; i < cm_outputs[k].count; i++) print_element(k, i, &cm_outputs[k]);
    }
    for (int k = 0; k < num_phases; k++) {
        char name[40] = "phase ";
        size_t n = strlen(phases[k].name);
        if (n > sizeof name - 7) n = sizeof name - 7;
        memcpy(name + 6, phases[k].name, n);
        name[6 + n] = 0;
        print_figure(name, phases[k].ticks);
    }
    print_figure("ticks", ticks);
    print_figure("stack_bytes", stack_used());
    if (argc > 2) write_outputs(argv[2]);
    return 0;
}
