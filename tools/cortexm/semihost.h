/* semihost.h - the few Arm semihosting calls the bare-metal harness needs.
 *
 * Semihosting lets code on a debugger-attached core (here qemu with
 * -semihosting-config enable=on,target=native) use the host's console and
 * files through `bkpt 0xAB`: r0 holds the operation, r1 a pointer to its
 * argument words, and r0 comes back with the result. On hardware without a
 * debugger attached the bkpt faults, so this is for emulators and probes.
 */
#ifndef CM_SEMIHOST_H
#define CM_SEMIHOST_H

#include <stddef.h>

/* Write a NUL-terminated string to the host's console. */
void cm_puts(const char *s);

/* Open a host file; mode "rb" or "wb". Returns a handle, or -1. */
int cm_open(const char *path, const char *mode);
int cm_close(int fd);

/* Read or write up to n bytes; return how many were transferred. */
size_t cm_read(int fd, void *buf, size_t n);
size_t cm_write(int fd, const void *buf, size_t n);

/* The command line qemu passes (its semihosting args, or the kernel file
 * name and -append); 0 on success. */
int cm_cmdline(char *buf, size_t size);

/* End the emulation: status 0 exits qemu with 0, anything else with 1. */
void cm_exit(int status);

#endif
