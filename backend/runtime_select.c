/* runtime_select.c - which runtime sources a generated model needs.
 *
 * The runtime is copied next to the model, but only the files it uses: the
 * files that define a kernel the plan calls, the trainer for a trainable
 * tail, and, transitively, the files that define a tb_ function one of those
 * calls (conv.c calls the GEMM of gemm_pack.c). A small model then builds
 * from a few kilobytes of runtime instead of all of it.
 *
 * Definitions are read from the embedded text: a line that starts in column
 * 0 with a lower-case word (a type) and has tb_name( on it defines tb_name.
 * A prototype matched that way only adds a file, which is harmless; headers
 * are always needed. */
#include <ctype.h>
#include <string.h>

#include "backend.h"

static int is_source(const char *name) {
    size_t len = strlen(name);
    return len > 2 && !strcmp(name + len - 2, ".c");
}

static int ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* Whether file f defines function fn (see the top comment). */
static int defines(int f, const char *fn) {
    size_t len = strlen(fn);
    for (const char *t = tb_runtime_files[f].text; (t = strstr(t, fn)); t += len) {
        const char *line = t;
        while (line > tb_runtime_files[f].text && line[-1] != '\n') line--;
        if (t[len] == '(' && (t == line || !ident_char(t[-1])) && islower((unsigned char)line[0])) return 1;
    }
    return 0;
}

/* Marks every source file that defines fn. */
static void need_function(const char *fn, unsigned char *need) {
    for (int f = 0; f < tb_runtime_file_count; f++)
        if (!need[f] && is_source(tb_runtime_files[f].name) && defines(f, fn)) need[f] = 1;
}

/* Marks the files defining the tb_ functions that file f names. */
static void need_callees(int f, unsigned char *need) {
    const char *text = tb_runtime_files[f].text;
    for (const char *t = text; (t = strstr(t, "tb_")); t += 3) {
        if (t > text && ident_char(t[-1])) continue;
        size_t len = 3;
        while (ident_char(t[len])) len++;
        if (t[len] != '(' || len >= 64) continue;
        char fn[64];
        memcpy(fn, t, len);
        fn[len] = 0;
        need_function(fn, need);
    }
}

void tb_runtime_select(const tb_plan *plan, int train_tail, unsigned char *need) {
    TB_ASSERT(tb_runtime_file_count <= TB_RUNTIME_MAX_FILES);
    memset(need, 0, (size_t)tb_runtime_file_count);
    for (int f = 0; f < tb_runtime_file_count; f++)
        need[f] = !is_source(tb_runtime_files[f].name) || (train_tail && !strcmp(tb_runtime_files[f].name, "tb_train.c"));
    for (int i = 0; i < plan->n_nodes; i++)
        for (int k = 0; k < plan->lowered[i].n_calls; k++)
            need_function(tb_kernel_function(plan->lowered[i].calls[k].kernel), need);
    /* to a fixed point: a newly needed file may call into another */
    for (int changed = 1; changed;) {
        unsigned char before[TB_RUNTIME_MAX_FILES];
        memcpy(before, need, (size_t)tb_runtime_file_count);
        for (int f = 0; f < tb_runtime_file_count; f++)
            if (need[f] && is_source(tb_runtime_files[f].name)) need_callees(f, need);
        changed = memcmp(before, need, (size_t)tb_runtime_file_count) != 0;
    }
}
