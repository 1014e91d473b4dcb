/* The Izhikevich plugin exports only the plugin ABI's entry points (plasticity_plugin.h). */
#include <plasticity_plugin.h>

int32_t plasticity_plugin_abi_version(void);
const plasticity_c_plugin *plasticity_c_plugin_entry(void);
