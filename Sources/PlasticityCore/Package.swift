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
        .target(
            name: "PlasticityCore",
            dependencies: [
                "CPluginABI",
                "CFFI",
                "CKernels",
                .product(name: "RealModule", package: "swift-numerics"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            path: ".",
            exclude: ["Package.swift", "CPluginABI", "CFFI", "CKernels"],
            sources: ["SparseAD", "Core", "Network", "Learning", "Data"],
            swiftSettings: cpuFlags
        ),
        .target(name: "CPluginABI", path: "CPluginABI"),
        .target(name: "CKernels", path: "CKernels", cSettings: cpuCFlags),
        // libffi calls C plugin kernels whose arity is known only at run time.
        .systemLibrary(name: "CFFI", path: "CFFI", pkgConfig: "libffi", providers: [.apt(["libffi-dev"])]),
    ],
    swiftLanguageModes: [.v5]
)
