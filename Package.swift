// swift-tools-version:6.0
// Root package: the command-line tool, the neuron-model plugins and the tests.
// The core is a separate package (Sources/PlasticityCore) used only through its dynamic
// library product, so that plugins loaded with dlopen share the host's copy of it.
import PackageDescription

let core = Target.Dependency.product(name: "PlasticityCore", package: "PlasticityCore")

/// A neuron-model plugin: a dynamic library built from `Plugins/<name>`, loaded at run time.
func pluginTarget(_ name: String) -> Target {
    .target(name: name, dependencies: [core], path: "Plugins/\(name)")
}

let pluginNames = ["LIF", "ALIF", "AdLIF"]
/// Plugins written in C against the plugin ABI header.
let cPluginNames = ["Izhikevich"]

let package = Package(
    name: "Plasticity",
    products: [
        .executable(name: "plasticity", targets: ["plasticity"]),
    ] + (pluginNames + cPluginNames).map { .library(name: $0, type: .dynamic, targets: [$0]) },
    dependencies: [
        .package(path: "Sources/PlasticityCore"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .executableTarget(
            name: "plasticity",
            dependencies: [core, .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/plasticity"
        ),
        .testTarget(name: "PlasticityTests", dependencies: [core], exclude: ["Fixtures"]),
    ] + pluginNames.map(pluginTarget) + cPluginNames.map {
        .target(name: $0, dependencies: [.product(name: "CPluginABI", package: "PlasticityCore")], path: "Plugins/\($0)")
    },
    swiftLanguageModes: [.v5]
)
