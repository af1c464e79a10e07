/* cortexm.h - what the bare-metal harness (harness.c), the startup code
 * (startup.c) and the generated model glue (model_io.c, written by
 * gen_io.py from the model's header) share. */
#ifndef CM_CORTEXM_H
#define CM_CORTEXM_H

#include <stddef.h>
#include <stdint.h>

/* Element types the harness can read and print: those of the model's inputs
 * and outputs as model.h declares them. */
enum {
    CM_F32, CM_F64, CM_I8, CM_U8, CM_I16, CM_U16, CM_I32, CM_U32, CM_I64, CM_U64
};

/* One graph input or output: its buffer in RAM and what it holds. */
typedef struct {
    const char *name; /* the ONNX tensor name */
    void *data;
    size_t count;     /* elements */
    size_t elem_size; /* bytes per element */
    int type;         /* CM_F32, ... */
} cm_tensor;

/* model_io.c (generated): the model's tensors, in graph order, and one call
 * of <prefix>_run() on them; for a model with a trainable tail
 * (tyboxc --train-tail), the inputs are labelled samples and cm_run() does one
 * inference and one training step (gen_io.py says which). cm_run() returns
 * NULL, or what went wrong. */
extern const cm_tensor cm_inputs[];
extern const int cm_num_inputs;
extern const cm_tensor cm_outputs[];
extern const int cm_num_outputs;
const char *cm_run(void);

/* The harness (harness.c; a no-op in host_main.c): the work since the
 * previous mark (or since cm_run() began) was the phase `name`, whose
 * instructions are reported apart. name must be a string literal. */
void cm_phase(const char *name);

/* The inputs of one sample, back to back (the layout of model_run's IN.bin),
 * built in with gen_io.py --input FILE; cm_embedded_bytes is 0 without one. */
extern const unsigned char cm_embedded[];
extern const size_t cm_embedded_bytes;

/* startup.c: SysTick ticks at the core clock between start and stop. */
void cm_ticks_start(void);
uint64_t cm_ticks_stop(void);

#endif
