/* semihost.c - Arm semihosting calls through `bkpt 0xAB` (see semihost.h).
 * Operation numbers and argument blocks are those of Arm's semihosting
 * specification for 32-bit targets. */
#include "semihost.h"

#include <stdint.h>
#include <string.h>

enum {
    SYS_OPEN = 0x01,
    SYS_CLOSE = 0x02,
    SYS_WRITE0 = 0x04,
    SYS_WRITE = 0x05,
    SYS_READ = 0x06,
    SYS_GET_CMDLINE = 0x15,
    SYS_EXIT = 0x18
};

/* SYS_EXIT reasons: the first makes qemu exit 0, any other exit 1. */
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUNTIME_ERROR 0x20023u

static uintptr_t call(uintptr_t op, const volatile void *arg) {
    register uintptr_t r0 __asm__("r0") = op;
    register const volatile void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void cm_puts(const char *s) {
    call(SYS_WRITE0, s);
}

int cm_open(const char *path, const char *mode) {
    /* mode numbers index "r", "rb", "r+", "r+b", "w", "wb", ... */
    uintptr_t args[3];
    args[0] = (uintptr_t)path;
    args[1] = strcmp(mode, "wb") == 0 ? 5 : 1;
    args[2] = strlen(path);
    return (int)call(SYS_OPEN, args);
}

int cm_close(int fd) {
    uintptr_t args[1];
    args[0] = (uintptr_t)fd;
    return (int)call(SYS_CLOSE, args);
}

/* SYS_READ and SYS_WRITE return the number of bytes NOT transferred. */
size_t cm_read(int fd, void *buf, size_t n) {
    uintptr_t args[3];
    args[0] = (uintptr_t)fd;
    args[1] = (uintptr_t)buf;
    args[2] = n;
    return n - call(SYS_READ, args);
}

size_t cm_write(int fd, const void *buf, size_t n) {
    uintptr_t args[3];
    args[0] = (uintptr_t)fd;
    args[1] = (uintptr_t)buf;
    args[2] = n;
    return n - call(SYS_WRITE, args);
}

int cm_cmdline(char *buf, size_t size) {
    uintptr_t args[2];
    args[0] = (uintptr_t)buf;
    args[1] = size;
    return (int)call(SYS_GET_CMDLINE, args);
}

void cm_exit(int status) {
    call(SYS_EXIT, (const void *)(uintptr_t)(status ? ADP_STOPPED_RUNTIME_ERROR : ADP_STOPPED_APPLICATION_EXIT));
    for (;;) {
    }
}
