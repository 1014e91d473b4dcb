/*
 * The Izhikevich (2003) neuron as a C plugin: Euler steps of
 *   v' = 0.04 v^2 + 5 v + 140 - u + I,   u' = a (b v - u),
 * with the reset written through the previous spike z so that it is differentiable:
 *   v_t = (1 - z) (v + dt v') + z c,     u_t = (1 - z) (u + dt u') + z (u + d),
 * and the spike argument f = (v - v_peak) / 10 mV. Every partial of the update depends on
 * the state or the spike, so every block entry varies and no eligibility trace collapses.
 *
 * Plugin ABI 2: every parameter is an array with one value per neuron, and the partial
 * derivatives with respect to the parameters are declared too, so a population may set any
 * of them per neuron and train them.
 */
#include "Izhikevich.h"

/* The arguments every update kernel takes, and every spike-argument kernel. */
#define UPDATE_ARGUMENTS size_t n, const double *v, const double *u, const double *z, const double *current, \
    const double *a, const double *b, const double *c, const double *d, const double *dt, const double *v_peak
#define SPIKE_ARGUMENTS size_t n, const double *v, const double *u, \
    const double *a, const double *b, const double *c, const double *d, const double *dt, const double *v_peak
#define UNUSED_UPDATE (void)v; (void)u; (void)z; (void)current; (void)a; (void)b; (void)c; (void)d; (void)dt; (void)v_peak
#define DV(i) (0.04 * v[i] * v[i] + 5 * v[i] + 140 - u[i] + current[i])
#define DU(i) (a[i] * (b[i] * v[i] - u[i]))

static void update(UPDATE_ARGUMENTS, double *v_out, double *u_out) {
    (void)v_peak;
    for (size_t i = 0; i < n; i++) {
        double dv = DV(i), du = DU(i);
        v_out[i] = (1 - z[i]) * (v[i] + dt[i] * dv) + z[i] * c[i];
        u_out[i] = (1 - z[i]) * (u[i] + dt[i] * du) + z[i] * (u[i] + d[i]);
    }
}

static void spike_argument(SPIKE_ARGUMENTS, double *out) {
    (void)u; (void)a; (void)b; (void)c; (void)d; (void)dt;
    for (size_t i = 0; i < n; i++) out[i] = (v[i] - v_peak[i]) / 10;
}

/* The partial derivatives of the update, one kernel each. */
#define PARTIAL(name, expression)                                            \
    static void name(UPDATE_ARGUMENTS, double *out) {                       \
        UNUSED_UPDATE;                                                       \
        for (size_t i = 0; i < n; i++) out[i] = (expression);               \
    }

PARTIAL(dv_dv, (1 - z[i]) * (1 + dt[i] * (0.08 * v[i] + 5)))
PARTIAL(dv_du, -(1 - z[i]) * dt[i])
PARTIAL(dv_dz, c[i] - (v[i] + dt[i] * DV(i)))
PARTIAL(dv_dI, (1 - z[i]) * dt[i])
PARTIAL(du_dv, (1 - z[i]) * dt[i] * a[i] * b[i])
PARTIAL(du_du, (1 - z[i]) * (1 - dt[i] * a[i]) + z[i])
PARTIAL(du_dz, d[i] - dt[i] * DU(i))
/* With respect to the parameters. */
PARTIAL(du_da, (1 - z[i]) * dt[i] * (b[i] * v[i] - u[i]))
PARTIAL(du_db, (1 - z[i]) * dt[i] * a[i] * v[i])
PARTIAL(dv_dc, z[i])
PARTIAL(du_dd, z[i])
PARTIAL(dv_ddt, (1 - z[i]) * DV(i))
PARTIAL(du_ddt, (1 - z[i]) * DU(i))

enum { A, B, C, D, DT, V_PEAK };

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
    {PLASTICITY_D_UPDATE_D_PARAMETER, 1, A, PLASTICITY_ENTRY_VARYING, 0, (void *)du_da},
    {PLASTICITY_D_UPDATE_D_PARAMETER, 1, B, PLASTICITY_ENTRY_VARYING, 0, (void *)du_db},
    {PLASTICITY_D_UPDATE_D_PARAMETER, 0, C, PLASTICITY_ENTRY_VARYING, 0, (void *)dv_dc},
    {PLASTICITY_D_UPDATE_D_PARAMETER, 1, D, PLASTICITY_ENTRY_VARYING, 0, (void *)du_dd},
    {PLASTICITY_D_UPDATE_D_PARAMETER, 0, DT, PLASTICITY_ENTRY_VARYING, 0, (void *)dv_ddt},
    {PLASTICITY_D_UPDATE_D_PARAMETER, 1, DT, PLASTICITY_ENTRY_VARYING, 0, (void *)du_ddt},
    {PLASTICITY_D_SPIKE_ARGUMENT_D_PARAMETER, 0, V_PEAK, PLASTICITY_ENTRY_CONSTANT, -0.1, 0},
};

static const plasticity_model_descriptor models[] = {{
    .name = "Izhikevich",
    .summary = "Izhikevich (2003) neuron, Euler steps, differentiable reset (C plugin, ABI 2)",
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
