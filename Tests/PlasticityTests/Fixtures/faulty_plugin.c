/*
 * A leaky neuron as a C plugin, built by the tests with one planted fault at a time:
 *   v_t = alpha v + I - z,  f = v - 1.
 * -DFAULT_WRONG_DERIVATIVE, -DFAULT_FALSE_ZERO, -DFAULT_WRONG_CONSTANT, -DFAULT_NAN,
 * -DFAULT_VERSION, -DFAULT_MISSING_KERNEL, -DFAULT_DUPLICATE_RULE,
 * -DFAULT_ZERO_ABOVE_THRESHOLD (the reset acts only above v = 1.5, dF/dz declared zero: wrong
 *   only where random states near v = 0 never look), -DFAULT_DEFAULT_ONLY_CONSTANT (dv/dv
 *   declared the constant 0.9, right only at the default alpha), -DFAULT_INDEX (F reads v[0]),
 *   -DFAULT_PARTIAL_WRITE (F writes the first neuron only), -DFAULT_STATE_COUNT_MORE (the
 *   descriptor says 2 states, the kernels take 1), -DFAULT_STATE_COUNT_FEWER (it says 1, F takes
 *   2), -DFAULT_CRASH, -DFAULT_HANG, -DFAULT_EXIT (in F); without any it is a correct plugin.
 */
#include <math.h>
#include <stdlib.h>
#include <plasticity_plugin.h>

/* How often the host called update: the tests check it is once per step, not per neuron. */
static long update_calls;
long test_update_calls(void) { return update_calls; }

static void update(size_t n, const double *v, const double *z, const double *current, double alpha, double *out) {
    update_calls++;
#ifdef FAULT_CRASH
    if (n > 0) *(volatile double *)0 = v[0];
#endif
#ifdef FAULT_HANG
    for (volatile int forever = 1; forever;) {}
#endif
#ifdef FAULT_EXIT
    exit(3);
#endif
#ifdef FAULT_PARTIAL_WRITE
    n = n > 0 ? 1 : 0;
#endif
    for (size_t i = 0; i < n; i++) {
#if defined(FAULT_NAN)
        out[i] = v[i] > -100 ? sqrt(-1.0 - v[i] * v[i]) : 0;
#elif defined(FAULT_ZERO_ABOVE_THRESHOLD)
        out[i] = alpha * v[i] + current[i] - (v[i] > 1.5 ? z[i] : 0);
#elif defined(FAULT_INDEX)
        out[i] = alpha * v[0] + current[i] - z[i];
#else
        out[i] = alpha * v[i] + current[i] - z[i];
#endif
    }
}

#ifdef FAULT_STATE_COUNT_FEWER
/* Two states (v, w), while the descriptor declares one. */
static void update_two(size_t n, const double *v, const double *w, const double *z, const double *current, double alpha,
                       double *out_v, double *out_w) {
    for (size_t i = 0; i < n; i++) {
        out_v[i] = alpha * v[i] + current[i] - z[i];
        out_w[i] = w[i];
    }
}
#endif

static void spike_argument(size_t n, const double *v, double alpha, double *out) {
    (void)alpha;
    for (size_t i = 0; i < n; i++) out[i] = v[i] - 1;
}

static void dv_dv(size_t n, const double *v, const double *z, const double *current, double alpha, double *out) {
    (void)v; (void)z; (void)current;
#ifdef FAULT_WRONG_DERIVATIVE
    for (size_t i = 0; i < n; i++) out[i] = alpha + 0.1 * v[i];
#else
    for (size_t i = 0; i < n; i++) out[i] = alpha;
#endif
}

static const char *const state_names[] = {"v", "w"};
static const double initial_state[] = {0, 0};
static const char *const parameter_names[] = {"alpha"};
static const double parameter_defaults[] = {0.9};

static const plasticity_partial_rule rules[] = {
#ifdef FAULT_DEFAULT_ONLY_CONSTANT
    {PLASTICITY_D_UPDATE_D_STATE, 0, 0, PLASTICITY_ENTRY_CONSTANT, 0.9, 0},
#else
    {PLASTICITY_D_UPDATE_D_STATE, 0, 0, PLASTICITY_ENTRY_VARYING, 0, (void *)dv_dv},
#endif
#if defined(FAULT_FALSE_ZERO) || defined(FAULT_ZERO_ABOVE_THRESHOLD)
    {PLASTICITY_D_UPDATE_D_PREVIOUS_SPIKE, 0, 0, PLASTICITY_ENTRY_ZERO, 0, 0},
#else
    {PLASTICITY_D_UPDATE_D_PREVIOUS_SPIKE, 0, 0, PLASTICITY_ENTRY_CONSTANT, -1, 0},
#endif
#ifdef FAULT_WRONG_CONSTANT
    {PLASTICITY_D_UPDATE_D_CURRENT, 0, 0, PLASTICITY_ENTRY_CONSTANT, 0.5, 0},
#else
    {PLASTICITY_D_UPDATE_D_CURRENT, 0, 0, PLASTICITY_ENTRY_CONSTANT, 1, 0},
#endif
    {PLASTICITY_D_SPIKE_ARGUMENT_D_STATE, 0, 0, PLASTICITY_ENTRY_CONSTANT, 1, 0},
#ifdef FAULT_DUPLICATE_RULE
    {PLASTICITY_D_UPDATE_D_CURRENT, 0, 0, PLASTICITY_ENTRY_CONSTANT, 2, 0},
#endif
};

static const plasticity_model_descriptor models[] = {{
    .name = MODEL_NAME,
    .summary = "leaky test neuron",
#ifdef FAULT_STATE_COUNT_MORE
    .state_count = 2,
#else
    .state_count = 1,
#endif
    .state_names = state_names,
    .initial_state = initial_state,
    .parameter_count = 1,
    .parameter_names = parameter_names,
    .parameter_defaults = parameter_defaults,
#if defined(FAULT_MISSING_KERNEL)
    .update = 0,
#elif defined(FAULT_STATE_COUNT_FEWER)
    .update = (void *)update_two,
#else
    .update = (void *)update,
#endif
    .spike_argument = (void *)spike_argument,
    .rule_count = sizeof rules / sizeof rules[0],
    .rules = rules,
}};

static const plasticity_c_plugin plugin = {.model_count = 1, .models = models};

int32_t plasticity_plugin_abi_version(void) {
#ifdef FAULT_VERSION
    return PLASTICITY_PLUGIN_ABI_VERSION + 9;
#else
    return PLASTICITY_PLUGIN_ABI_VERSION;
#endif
}

const plasticity_c_plugin *plasticity_c_plugin_entry(void) { return &plugin; }
