/* model_stats.h - parameter, MAC and weight-byte counts of a graph.
 *
 * Parameters are the constant elements a node reads (weights, biases, BN
 * statistics, and small constants such as Clip bounds); MACs are the
 * multiply-accumulates of Conv, Gemm and MatMul (other ops count 0). Graph
 * totals count a constant once even when several nodes read it.
 *
 *   int64_t p = tb_graph_params(g), m = tb_graph_macs(g);
 *   printf("params: %lld, MACs: %lld\n", (long long)p, (long long)m);
 */
#ifndef TYBOXC_MODEL_STATS_H
#define TYBOXC_MODEL_STATS_H

#include "ir.h"

/* Constant elements read by the node (a constant read twice counts once). */
int64_t tb_node_params(const tb_graph *g, int node);
/* Multiply-accumulates of one run of the node: Conv, Gemm, MatMul; else 0. */
int64_t tb_node_macs(const tb_graph *g, int node);
/* Totals over the live nodes; each constant counted once. */
int64_t tb_graph_params(const tb_graph *g);
int64_t tb_graph_macs(const tb_graph *g);
/* Bytes of the f32 constants read by live nodes (the float weights). */
int64_t tb_graph_float_weight_bytes(const tb_graph *g);

#endif
