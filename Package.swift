// swift-tools-version:6.1
// Root package: the command-line tool, the neuron-model plugins and the tests.
// The core is a separate package (Sources/PlasticityCore) used only through its dynamic
// library product, so that plugins loaded with dlopen share the host's copy of it.
import PackageDescription

let core = Target.Dependency.product(name: "PlasticityCore", package: "PlasticityCore")

/// A Swift neuron-model plugin: the model (`Plugins/<name>/Model`, a module others can link)
/// and the plugin entry points (`Plugins/<name>/Plugin`), built together into lib<name>.so.
func pluginTargets(_ name: String) -> [Target] {
    [.target(name: "\(name)Model", dependencies: [core], path: "Plugins/\(name)/Model"),
     .target(name: "\(name)Plugin", dependencies: [core, .target(name: "\(name)Model")], path: "Plugins/\(name)/Plugin")]
}

let pluginNames = ["LIF", "ALIF", "AdLIF"]
/// Plugins written in C against the plugin ABI header.
let cPluginNames = ["Izhikevich"]

let package = Package(
    name: "Plasticity",
    products: [
        .executable(name: "plasticity", targets: ["plasticity"]),
    ] + pluginNames.map { .library(name: $0, type: .dynamic, targets: ["\($0)Plugin"]) }
      + cPluginNames.map { .library(name: $0, type: .dynamic, targets: [$0]) },
    dependencies: [
        .package(path: "Sources/PlasticityCore"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Kernel benchmarks (`swift package benchmark`); the malloc interposer counts allocations.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "plasticity",
            dependencies: [core, .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/plasticity"
        ),
        .testTarget(name: "PlasticityTests", dependencies: [core], exclude: ["Fixtures"]),
        .executableTarget(
            name: "KernelBenchmarks",
            dependencies: [core, "LIFModel", "ALIFModel", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/KernelBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ] + pluginNames.flatMap(pluginTargets) + cPluginNames.map {
        .target(name: $0, dependencies: [.product(name: "CPluginABI", package: "PlasticityCore")], path: "Plugins/\($0)")
    },
    swiftLanguageModes: [.v5]
)
