/*
 * The Izhikevich (2003) neuron as a C plugin: Euler steps of
 *   v' = 0.04 v^2 + 5 v + 140 - u + I,   u' = a (b v - u),
 * with the reset written through the previous spike z so that it is differentiable:
 *   v_t = (1 - z) (v + dt v') + z c,     u_t = (1 - z) (u + dt u') + z (u + d),
 * and the spike argument f = (v - v_peak) / 10 mV. Every partial of the update depends on
 * the state or the spike, so every block entry varies and no eligibility trace collapses.
 */
#include "Izhikevich.h"

enum { A, B, C, D, DT, V_PEAK };

static void update(size_t n, const double *v, const double *u, const double *z, const double *current,
                   double a, double b, double c, double d, double dt, double v_peak, double *v_out, double *u_out) {
    (void)v_peak;
    for (size_t i = 0; i < n; i++) {
        double dv = 0.04 * v[i] * v[i] + 5 * v[i] + 140 - u[i] + current[i];
        double du = a * (b * v[i] - u[i]);
        v_out[i] = (1 - z[i]) * (v[i] + dt * dv) + z[i] * c;
        u_out[i] = (1 - z[i]) * (u[i] + dt * du) + z[i] * (u[i] + d);
    }
}

static void spike_argument(size_t n, const double *v, const double *u,
                           double a, double b, double c, double d, double dt, double v_peak, double *out) {
    (void)u; (void)a; (void)b; (void)c; (void)d; (void)dt;
    for (size_t i = 0; i < n; i++) out[i] = (v[i] - v_peak) / 10;
}

/* The partial derivatives of the update, one kernel each. */
#define PARTIAL(name, expression)                                                                    \
    static void name(size_t n, const double *v, const double *u, const double *z, const double *current, \
                     double a, double b, double c, double d, double dt, double v_peak, double *out) {    \
        (void)v; (void)u; (void)z; (void)current; (void)a; (void)b; (void)c; (void)d; (void)dt; (void)v_peak; \
        for (size_t i = 0; i < n; i++) out[i] = (expression);                                      \
    }

PARTIAL(dv_dv, (1 - z[i]) * (1 + dt * (0.08 * v[i] + 5)))
PARTIAL(dv_du, -(1 - z[i]) * dt)
PARTIAL(dv_dz, c - (v[i] + dt * (0.04 * v[i] * v[i] + 5 * v[i] + 140 - u[i] + current[i])))
PARTIAL(dv_dI, (1 - z[i]) * dt)
PARTIAL(du_dv, (1 - z[i]) * dt * a * b)
PARTIAL(du_du, (1 - z[i]) * (1 - dt * a) + z[i])
PARTIAL(du_dz, d - dt * a * (b * v[i] - u[i]))

static const char *const state_names[] = {"v", "u"};
static const double initial_state[] = {-65, -13};
static const char *const parameter_names[] = {"a", "b", "c", "d", "dt", "vPeak"};
static const double parameter_defaults[] = {0.02, 0.2, -65, 8, 0.5, 30};

static const plasticity_partial_rule rules[] = {
    {PLASTICITY_D_UPDATE_D_STATE, 0, 0, PLASTICITY_ENTRY_VARYING, 0, (void *)dv_dv},
    {PLASTICITY_D_UPDATE_D_STATE, 0, 1, PLASTICITY_ENTRY_VARYING, 0, (void *)dv_du},
    {PLASTICITY_D_UPDATE_D_PREVIOUS_SPIKE, 0, 0, PLASTICITY_ENTRY_VARYING, 0, (void *)dv_dz},
    {PLASTICITY_D_UPDATE_D_CURRENT, 0, 0, PLASTICITY_ENTRY_VARYING, 0, (void *)dv_dI},
    {PLASTICITY_D_UPDATE_D_STATE, 1, 0, PLASTICITY_ENTRY_VARYING, 0, (void *)du_dv},
    {PLASTICITY_D_UPDATE_D_STATE, 1, 1, PLASTICITY_ENTRY_VARYING, 0, (void *)du_du},
    {PLASTICITY_D_UPDATE_D_PREVIOUS_SPIKE, 1, 0, PLASTICITY_ENTRY_VARYING, 0, (void *)du_dz},
    {PLASTICITY_D_UPDATE_D_CURRENT, 1, 0, PLASTICITY_ENTRY_ZERO, 0, 0},
    {PLASTICITY_D_SPIKE_ARGUMENT_D_STATE, 0, 0, PLASTICITY_ENTRY_CONSTANT, 0.1, 0},
};

static const plasticity_model_descriptor models[] = {{
    .name = "Izhikevich",
    .summary = "Izhikevich (2003) neuron, Euler steps, differentiable reset (C plugin)",
    .state_count = 2,
    .state_names = state_names,
    .initial_state = initial_state,
    .parameter_count = 6,
    .parameter_names = parameter_names,
    .parameter_defaults = parameter_defaults,
    .default_surrogate = "fast-sigmoid(slope=1)",
    .update = (void *)update,
    .spike_argument = (void *)spike_argument,
    .rule_count = sizeof rules / sizeof rules[0],
    .rules = rules,
}};

static const plasticity_c_plugin plugin = {.model_count = 1, .models = models};

int32_t plasticity_plugin_abi_version(void) { return PLASTICITY_PLUGIN_ABI_VERSION; }

const plasticity_c_plugin *plasticity_c_plugin_entry(void) { return &plugin; }
