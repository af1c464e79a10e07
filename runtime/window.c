/* window.c - which positions of a sliding window fall inside a tensor:
 * shared by the convolution and pooling kernels. */
#include "tb_runtime.h"

/* Dividing only positive numerators keeps C's truncating division equal to
 * the ceiling we need. */
void tb_index_span(int32_t base, int32_t step, int32_t cnt, int32_t len, int32_t *lo, int32_t *hi)
{
    int32_t l = 0, h = cnt;
    if (base < 0)
        l = (-base + step - 1) / step;
    if (base >= len)
        h = 0;
    else if (((int64_t)len - base + step - 1) / step < h)
        h = (int32_t)(((int64_t)len - base + step - 1) / step);
    *lo = l;
    *hi = h;
}
