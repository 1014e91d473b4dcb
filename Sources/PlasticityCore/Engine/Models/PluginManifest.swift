import PlasticityBase

/// The plugin ABI: what a plugin library exports and what the host expects of it.
public enum PluginABI {
    /// The version of Swift plugins this host speaks. A plugin returns the version it was
    /// written for from `plasticity_plugin_abi_version`, as a literal compiled into the plugin.
    public static let version: Int32 = 1
    /// The versions of the C ABI this host speaks (plasticity_plugin.h): 1 passes parameters
    /// by value, 2 as per-neuron arrays with partial derivatives for them, 3 adds sized
    /// structs, descriptions and ranges, and partials that are functions of the parameters.
    public static let cVersions: ClosedRange<Int32> = 1...3
    /// `@convention(c) () -> Int32`: the plugin's ABI version.
    public static let versionSymbol = "plasticity_plugin_abi_version"
    /// `@convention(c) () -> UnsafeMutableRawPointer`: a retained `PluginManifest`.
    public static let swiftEntrySymbol = "plasticity_plugin_entry"
    /// `const plasticity_c_plugin *(void)`: a C plugin's models (see plasticity_plugin.h).
    public static let cEntrySymbol = "plasticity_c_plugin_entry"
}

/// What a Swift plugin hands to the host: the models it provides.
///
/// A plugin's entry function returns `PluginManifest(models: [...]).retainedPointer()`. The
/// host takes the object back and casts it to `PluginManifest`; that cast succeeds only if
/// plugin and host share one PlasticityCore, which is how type identity is checked.
public final class PluginManifest {
    public let models: [any NeuronModel.Type]

    public init(models: [any NeuronModel.Type]) {
        self.models = models
    }

    /// A +1 retained pointer to this manifest, to return from the plugin's entry function.
    public func retainedPointer() -> UnsafeMutableRawPointer {
        Unmanaged.passRetained(self).toOpaque()
    }
}
