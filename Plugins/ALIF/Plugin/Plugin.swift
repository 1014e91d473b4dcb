import PlasticityCore
import ALIFModel

// The two C symbols every Swift plugin exports (see Documentation/WritingAPlugin.md).
// The version is a literal so that it records the ABI this plugin was compiled for.

@_cdecl("plasticity_plugin_abi_version")
public func pluginABIVersion() -> Int32 { 1 }

@_cdecl("plasticity_plugin_entry")
public func pluginEntry() -> UnsafeMutableRawPointer {
    PluginManifest(models: [ALIF.self]).retainedPointer()
}
