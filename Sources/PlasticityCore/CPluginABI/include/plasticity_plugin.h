/*
 * The C plugin ABI of Plasticity (versions 1, 2 and 3).
 *
 * A C plugin is a shared library that exports two functions:
 *
 *   int32_t plasticity_plugin_abi_version(void);                 returns PLASTICITY_PLUGIN_ABI_VERSION
 *   const plasticity_c_plugin *plasticity_c_plugin_entry(void);  returns its models
 *
 * A model gives its state update F and spike argument f as kernels, and one kernel per
 * non-zero partial derivative of F and f, each annotated. The host applies the spike and the
 * surrogate derivative itself, composes the Jacobian blocks, and checks every rule against
 * finite differences of F and f when the plugin is loaded.
 *
 * Kernels are vectorised: one call per step computes `count` neurons. They are called through
 * libffi with arguments laid out from the descriptor (k = state_count, P = parameter_count).
 *
 * Version 1 (the default) passes parameters by value, one value for every neuron:
 *
 *   update F and its partials:
 *     void kernel(size_t count, const double *h_0, ..., const double *h_{k-1},
 *                 const double *previous_spike, const double *current,
 *                 double p_0, ..., double p_{P-1},
 *                 double *out_0, ..., double *out_{n-1});        n = k for F, 1 for a partial
 *   spike argument f and its partials:
 *     void kernel(size_t count, const double *h_0, ..., const double *h_{k-1},
 *                 double p_0, ..., double p_{P-1}, double *out);
 *
 * Version 2 — chosen by `#define PLASTICITY_PLUGIN_ABI 2` before including this header —
 * passes every parameter as an array with one value per neuron, like the state
 * (`const double *p_0, ..., const double *p_{P-1}` in place of the doubles above), so a
 * population may set any parameter per neuron; and rules may give the partial derivatives
 * with respect to parameters (PLASTICITY_D_UPDATE_D_PARAMETER, PLASTICITY_D_SPIKE_ARGUMENT_D_PARAMETER,
 * `column` = the parameter's index), which is what training a parameter needs. Once a rule
 * names a parameter, its unlisted partials are zero, as for the state; a parameter no rule
 * names can be set per neuron but not trained. A constant may depend on nothing: a partial that
 * depends on a parameter is VARYING (its kernel reads the parameter's array).
 *
 * Version 3 — `#define PLASTICITY_PLUGIN_ABI 3` — passes parameters as version 2 does, and
 * describes a model with structs that say their own size (`struct_size`, set to sizeof of the
 * struct: later versions append fields, and a host reads the fields it knows):
 *   - each state variable and parameter has a description, and may state a range: a parameter
 *     its valid values (anything else is refused when the model is compiled), a state the
 *     values it typically takes (where the host's verification samples random states);
 *     leave both bounds 0 for none;
 *   - a partial that depends on the parameters only (dv/dv = exp(-dt/tau)) can be declared
 *     PLASTICITY_ENTRY_PARAMETER_CONSTANT with a kernel of the parameters,
 *         void kernel(size_t count, const double *p_0, ..., const double *p_{P-1}, double *out);
 *     it is evaluated once per configuration when the parameters are single values, so the
 *     entry stays a constant (and e-prop's traces can collapse), and per neuron when a
 *     population sets them per neuron or trains them.
 *
 * h_i[n] is state variable i of neuron n; for F these are h[t-1], for f the new state h[t].
 */
#ifndef PLASTICITY_PLUGIN_H
#define PLASTICITY_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifndef PLASTICITY_PLUGIN_ABI
#define PLASTICITY_PLUGIN_ABI 1
#endif
#define PLASTICITY_PLUGIN_ABI_VERSION PLASTICITY_PLUGIN_ABI

/* Which partial derivative a rule gives. */
typedef enum {
    PLASTICITY_D_UPDATE_D_STATE = 0,          /* dF_row / dh_column[t-1] */
    PLASTICITY_D_UPDATE_D_PREVIOUS_SPIKE = 1, /* dF_row / dz[t-1]       */
    PLASTICITY_D_UPDATE_D_CURRENT = 2,        /* dF_row / dI[t]         */
    PLASTICITY_D_SPIKE_ARGUMENT_D_STATE = 3,  /* df / dh_column[t]      (row is 0) */
    PLASTICITY_D_UPDATE_D_PARAMETER = 4,      /* dF_row / dp_column     (version 2) */
    PLASTICITY_D_SPIKE_ARGUMENT_D_PARAMETER = 5 /* df / dp_column       (version 2; row is 0) */
} plasticity_partial;

/* How an entry behaves. Entries not listed are zero. */
typedef enum {
    PLASTICITY_ENTRY_ZERO = 0,      /* structurally zero: checked, never computed */
    PLASTICITY_ENTRY_CONSTANT = 1,  /* the same value everywhere: checked, folded into the rules */
    PLASTICITY_ENTRY_VARYING = 2,   /* computed by `kernel` every step */
    PLASTICITY_ENTRY_STOPPED = 3,   /* treated as zero by choice (a stopped gradient): not checked */
    PLASTICITY_ENTRY_PARAMETER_CONSTANT = 4 /* a function of the parameters only, by `kernel` (version 3) */
} plasticity_entry_kind;

/* Versions 1 and 2. */
typedef struct {
    plasticity_partial partial;
    uint32_t row;
    uint32_t column;
    plasticity_entry_kind kind;
    double constant;   /* the value when kind is CONSTANT */
    void *kernel;      /* the kernel when kind is VARYING */
} plasticity_partial_rule_v1;

typedef struct {
    const char *name;
    const char *summary;
    uint32_t state_count;
    const char *const *state_names;
    const double *initial_state;
    uint32_t parameter_count;
    const char *const *parameter_names;
    const double *parameter_defaults;
    const char *default_surrogate;   /* e.g. "fast-sigmoid(slope=10)"; NULL: triangle */
    void *update;                    /* F */
    void *spike_argument;            /* f */
    uint32_t rule_count;
    const plasticity_partial_rule_v1 *rules;
} plasticity_model_descriptor_v1;

typedef struct {
    uint32_t model_count;
    const plasticity_model_descriptor_v1 *models;
} plasticity_c_plugin_v1;

/* Version 3: every struct begins with its own size. */
typedef struct {
    uint32_t struct_size;            /* sizeof(plasticity_partial_rule_v3) */
    plasticity_partial partial;
    uint32_t row;
    uint32_t column;
    plasticity_entry_kind kind;
    double constant;                 /* the value when kind is CONSTANT */
    void *kernel;                    /* the kernel when kind is VARYING or PARAMETER_CONSTANT */
} plasticity_partial_rule_v3;

typedef struct {
    uint32_t struct_size;            /* sizeof(plasticity_state_v3) */
    const char *name;
    const char *description;
    double initial_value;
    double typical_minimum;          /* the values it typically takes; both 0: not stated */
    double typical_maximum;
} plasticity_state_v3;

typedef struct {
    uint32_t struct_size;            /* sizeof(plasticity_parameter_v3) */
    const char *name;
    const char *description;
    double default_value;
    double minimum;                  /* the valid values, bounds included; both 0: any */
    double maximum;
} plasticity_parameter_v3;

typedef struct {
    uint32_t struct_size;            /* sizeof(plasticity_model_descriptor_v3) */
    const char *name;
    const char *summary;
    uint32_t state_count;
    const plasticity_state_v3 *states;
    uint32_t parameter_count;
    const plasticity_parameter_v3 *parameters;
    const char *default_surrogate;   /* e.g. "fast-sigmoid(slope=10)"; NULL: triangle */
    void *update;                    /* F */
    void *spike_argument;            /* f */
    uint32_t rule_count;
    const plasticity_partial_rule_v3 *rules;
} plasticity_model_descriptor_v3;

typedef struct {
    uint32_t struct_size;            /* sizeof(plasticity_c_plugin_v3) */
    uint32_t model_count;
    const plasticity_model_descriptor_v3 *models;
} plasticity_c_plugin_v3;

/* The names a plugin writes, for the version it chose. */
#if PLASTICITY_PLUGIN_ABI >= 3
typedef plasticity_partial_rule_v3 plasticity_partial_rule;
typedef plasticity_model_descriptor_v3 plasticity_model_descriptor;
typedef plasticity_c_plugin_v3 plasticity_c_plugin;
#else
typedef plasticity_partial_rule_v1 plasticity_partial_rule;
typedef plasticity_model_descriptor_v1 plasticity_model_descriptor;
typedef plasticity_c_plugin_v1 plasticity_c_plugin;
#endif

#endif
