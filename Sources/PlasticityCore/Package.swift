// swift-tools-version:6.0
// The core lives in its own package so that it can be exposed ONLY as a dynamic library:
// the host tool, the tests and every plugin then share one copy of it, and type identity
// (as? casts, protocol conformances, the model registry) holds across dlopen.
import Foundation
import PackageDescription

/// Opt-in: `PLASTICITY_CPU=native swift build -c release` (or x86-64-v3, …) compiles the core
/// for that CPU, so its loops use AVX2/AVX-512 and FMA. The default build runs on any x86-64.
let cpuFlags: [SwiftSetting] = ProcessInfo.processInfo.environment["PLASTICITY_CPU"].map {
    [.unsafeFlags(["-target-cpu", $0]), .unsafeFlags(["-Xcc", "-march=\($0)"])]
} ?? []

let cpuCFlags: [CSetting] = ProcessInfo.processInfo.environment["PLASTICITY_CPU"].map { [.unsafeFlags(["-march=\($0)"])] } ?? []

let package = Package(
    name: "PlasticityCore",
    products: [
        .library(name: "PlasticityCore", type: .dynamic, targets: ["PlasticityCore"]),
        // The C header a C plugin includes (plasticity_plugin.h).
        .library(name: "CPluginABI", targets: ["CPluginABI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // The umbrella the product exposes: it re-exports every layer (Umbrella/Exports.swift).
        .target(
            name: "PlasticityCore",
            dependencies: ["PlasticityBase", "PlasticityIO", "PlasticityEngine", "PlasticityPlanning", "PlasticityData", "PlasticityTraining"],
            path: "Umbrella"
        ),
        // Errors, seeded random numbers, system libraries, the CPU: what every layer uses.
        .target(name: "PlasticityBase", path: "Base"),
        // .npy/.npz and HDF5 files.
        .target(name: "PlasticityIO", dependencies: ["PlasticityBase", .product(name: "ZIPFoundation", package: "ZIPFoundation")], path: "IO"),
        // Expressions and AD → models (plugins, compilation, blocks, verification) → numerics →
        // the network (graph, forward pass) → the rules. One module: its generic hot loops must
        // specialise and inline into each other, which Swift does within a module only.
        .target(
            name: "PlasticityEngine",
            dependencies: ["PlasticityBase", "CPluginABI", "CFFI", "CKernels", .product(name: "RealModule", package: "swift-numerics")],
            path: "Engine",
            swiftSettings: cpuFlags
        ),
        // Cost model, exactness, the planner, rule comparisons.
        .target(name: "PlasticityPlanning", dependencies: ["PlasticityEngine"], path: "Planning"),
        // Data sets and the arrays of `plasticity grad`.
        .target(name: "PlasticityData", dependencies: ["PlasticityEngine", "PlasticityIO"], path: "DataSets"),
        // The trainer: epochs, evaluation, checkpoints.
        .target(name: "PlasticityTraining", dependencies: ["PlasticityEngine", "PlasticityIO", "PlasticityData"], path: "Training"),
        .target(name: "CPluginABI", path: "CPluginABI"),
        .target(name: "CKernels", path: "CKernels", cSettings: cpuCFlags),
        // libffi calls C plugin kernels whose arity is known only at run time.
        .systemLibrary(name: "CFFI", path: "CFFI", pkgConfig: "libffi", providers: [.apt(["libffi-dev"])]),
    ],
    swiftLanguageModes: [.v5]
)
