/* startup.c - reset and fault handlers, the vector table and a SysTick tick
 * counter for Cortex-M (ARMv6-M and ARMv7-M alike).
 *
 * The linker script (mps2-an386.ld) provides the symbols below. On reset the
 * core loads SP and PC from the table at address 0; Reset_Handler copies
 * .data from flash, zeroes .bss, turns the FPU on when the code was built to
 * use it, runs main() and passes its status to the host through semihosting.
 */
#include <stdint.h>

#include "cortexm.h"
#include "semihost.h"

extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_top[];

int main(void);

#define REG(addr) (*(volatile uint32_t *)(addr))
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define SCB_ICSR REG(0xE000ED04u)
#define SCB_CPACR REG(0xE000ED88u)
#define ICSR_PENDSTSET (1u << 26)
#define SYST_RELOAD 0xFFFFFFu /* SysTick counts down 24 bits */
/* CSR bits: enable, interrupt on wrap, clocked by the core. Stopping keeps
 * the clock source: qemu rescales the count when it changes. */
#define SYST_CORE_CLOCK 4u
#define SYST_RUN 7u

static volatile uint32_t systick_wraps;

void Reset_Handler(void) {
    uint32_t *src = __data_load, *dst = __data_start;
    while (dst < __data_end) *dst++ = *src++;
    for (dst = __bss_start; dst < __bss_end; dst++) *dst = 0;
#if defined(__ARM_FP)
    /* Full access to CP10 and CP11 (the FPU) before any float instruction. */
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    cm_exit(main());
}

static void fault(void) {
    cm_puts("error: hard fault\n");
    cm_exit(1);
}

static void SysTick_Handler(void) {
    systick_wraps++;
}

void cm_ticks_start(void) {
    systick_wraps = 0;
    SYST_CSR = SYST_CORE_CLOCK;
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0; /* any write clears the counter; it reloads on the next tick */
    SYST_CSR = SYST_RUN;
}

uint64_t cm_ticks_stop(void) {
    uint32_t left;
    SYST_CSR = SYST_CORE_CLOCK;
    left = SYST_CVR;
    /* a wrap that happened just before the stop is pending, not yet counted */
    if (SCB_ICSR & ICSR_PENDSTSET) {
        SCB_ICSR = 1u << 25; /* PENDSTCLR */
        systick_wraps++;
    }
    return (uint64_t)systick_wraps * (SYST_RELOAD + 1u) + (SYST_RELOAD - left);
}

/* The 16 system exception entries; the external interrupts are not used. */
__attribute__((section(".vectors"), used)) static const struct {
    uint32_t *stack_top;
    void (*handler[15])(void);
} vectors = {
    __stack_top,
    {
        Reset_Handler, fault /* NMI */, fault /* HardFault */, fault /* MemManage */,
        fault /* BusFault */, fault /* UsageFault */, 0, 0, 0, 0,
        fault /* SVCall */, fault /* DebugMonitor */, 0, fault /* PendSV */, SysTick_Handler,
    },
};
