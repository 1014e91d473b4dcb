/*
 * A leaky integrate-and-fire neuron as a plugin of ABI 3:
 *   v_t = alpha v + (1 - alpha) I - z,  alpha = exp(-dt / tau),  f = v - 1,
 * whose dv/dv = alpha and dv/dI = 1 - alpha are declared as functions of the parameters
 * (PLASTICITY_ENTRY_PARAMETER_CONSTANT), with descriptions and ranges. Built by the tests with
 * one planted fault at a time: -DFAULT_CONSTANT_AT_DEFAULT (alpha computed for tau = 20 whatever
 * tau is), -DFAULT_SMALL_STRUCT (a rule's struct_size smaller than ABI 3's struct),
 * -DFAULT_DEFAULT_OUTSIDE_RANGE (tau's default outside its range), -DFAULT_UNTRAINED_INDEX (dt gets
 * no partial, so it is not trainable, and F reads dt[0] for every neuron), -DFAULT_LARGE_TAU (the
 * decay is computed for tau = 100 whenever tau exceeds 100: right near the default).
 */
#define PLASTICITY_PLUGIN_ABI 3
#include <math.h>
#include <plasticity_plugin.h>

enum { TAU, DT };

static void update(size_t n, const double *v, const double *z, const double *current, const double *tau, const double *dt, double *out) {
    for (size_t i = 0; i < n; i++) {
#ifdef FAULT_UNTRAINED_INDEX
        double alpha = exp(-dt[0] / tau[i]);
#else
        double alpha = exp(-dt[i] / tau[i]);
#endif
        out[i] = alpha * v[i] + (1 - alpha) * current[i] - z[i];
    }
}

static void spike_argument(size_t n, const double *v, const double *tau, const double *dt, double *out) {
    (void)tau; (void)dt;
    for (size_t i = 0; i < n; i++) out[i] = v[i] - 1;
}

/* Functions of the parameters only. */
static void decay(size_t n, const double *tau, const double *dt, double *out) {
#if defined(FAULT_CONSTANT_AT_DEFAULT)
    (void)tau;
    for (size_t i = 0; i < n; i++) out[i] = exp(-dt[i] / 20);
#elif defined(FAULT_LARGE_TAU)
    for (size_t i = 0; i < n; i++) out[i] = exp(-dt[i] / (tau[i] > 100 ? 100 : tau[i]));
#else
    for (size_t i = 0; i < n; i++) out[i] = exp(-dt[i] / tau[i]);
#endif
}

static void input_gain(size_t n, const double *tau, const double *dt, double *out) {
    for (size_t i = 0; i < n; i++) out[i] = 1 - exp(-dt[i] / tau[i]);
}

/* dF/dtau = (v - I) alpha dt / tau^2,  dF/ddt = -(v - I) alpha / tau. */
static void dv_dtau(size_t n, const double *v, const double *z, const double *current, const double *tau, const double *dt, double *out) {
    (void)z;
    for (size_t i = 0; i < n; i++) out[i] = (v[i] - current[i]) * exp(-dt[i] / tau[i]) * dt[i] / (tau[i] * tau[i]);
}

static void dv_ddt(size_t n, const double *v, const double *z, const double *current, const double *tau, const double *dt, double *out) {
    (void)z;
    for (size_t i = 0; i < n; i++) out[i] = -(v[i] - current[i]) * exp(-dt[i] / tau[i]) / tau[i];
}

static const plasticity_state_v3 states[] = {
    {sizeof(plasticity_state_v3), "v", "membrane potential (threshold 1)", 0, -1, 2},
};

static const plasticity_parameter_v3 parameters[] = {
#ifdef FAULT_DEFAULT_OUTSIDE_RANGE
    {sizeof(plasticity_parameter_v3), "tau", "membrane time constant (ms)", 0.5, 1, 1000},
#else
    {sizeof(plasticity_parameter_v3), "tau", "membrane time constant (ms)", 20, 1, 1000},
#endif
    {sizeof(plasticity_parameter_v3), "dt", "time step (ms)", 1, 0, 0},
};

#ifdef FAULT_SMALL_STRUCT
#define RULE_SIZE 16
#else
#define RULE_SIZE sizeof(plasticity_partial_rule_v3)
#endif

static const plasticity_partial_rule_v3 rules[] = {
    {RULE_SIZE, PLASTICITY_D_UPDATE_D_STATE, 0, 0, PLASTICITY_ENTRY_PARAMETER_CONSTANT, 0, (void *)decay},
    {RULE_SIZE, PLASTICITY_D_UPDATE_D_PREVIOUS_SPIKE, 0, 0, PLASTICITY_ENTRY_CONSTANT, -1, 0},
    {RULE_SIZE, PLASTICITY_D_UPDATE_D_CURRENT, 0, 0, PLASTICITY_ENTRY_PARAMETER_CONSTANT, 0, (void *)input_gain},
    {RULE_SIZE, PLASTICITY_D_SPIKE_ARGUMENT_D_STATE, 0, 0, PLASTICITY_ENTRY_CONSTANT, 1, 0},
    {RULE_SIZE, PLASTICITY_D_UPDATE_D_PARAMETER, 0, TAU, PLASTICITY_ENTRY_VARYING, 0, (void *)dv_dtau},
#ifndef FAULT_UNTRAINED_INDEX
    {RULE_SIZE, PLASTICITY_D_UPDATE_D_PARAMETER, 0, DT, PLASTICITY_ENTRY_VARYING, 0, (void *)dv_ddt},
#endif
};

static const plasticity_model_descriptor models[] = {{
    .struct_size = sizeof(plasticity_model_descriptor),
    .name = MODEL_NAME,
    .summary = "LIF of ABI 3",
    .state_count = 1,
    .states = states,
    .parameter_count = 2,
    .parameters = parameters,
    .update = (void *)update,
    .spike_argument = (void *)spike_argument,
    .rule_count = sizeof rules / sizeof rules[0],
    .rules = rules,
}};

static const plasticity_c_plugin plugin = {.struct_size = sizeof(plasticity_c_plugin), .model_count = 1, .models = models};

int32_t plasticity_plugin_abi_version(void) { return PLASTICITY_PLUGIN_ABI_VERSION; }

const plasticity_c_plugin *plasticity_c_plugin_entry(void) { return &plugin; }
