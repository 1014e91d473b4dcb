/* The Izhikevich plugin exports only the plugin ABI's entry points (plasticity_plugin.h),
 * in version 2: parameters arrive as per-neuron arrays. */
#define PLASTICITY_PLUGIN_ABI 2
#include <plasticity_plugin.h>

int32_t plasticity_plugin_abi_version(void);
const plasticity_c_plugin *plasticity_c_plugin_entry(void);
