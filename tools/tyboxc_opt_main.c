/* tyboxc-opt's main: the driver itself is tb_opt_main (tyboxc_opt.c), kept in
 * the library so that out-of-tree opt tools reuse it with their own passes. */
#include "driver.h"

int main(int argc, char **argv) { return tb_opt_main(argc, argv, "tyboxc-opt"); }
