// swift-tools-version:6.0
// An out-of-tree neuron-model plugin: its own package, depending on Plasticity's core
// package (here by path; from elsewhere by the repository's URL and a version).
import PackageDescription

let package = Package(
    name: "QuadraticIF",
    products: [
        // A dynamic library: `plasticity --plugin path/to/libQuadraticIF.so` loads it.
        .library(name: "QuadraticIF", type: .dynamic, targets: ["QuadraticIF"]),
    ],
    dependencies: [
        .package(path: "../../Sources/PlasticityCore"),
    ],
    targets: [
        // Depend on the PlasticityCore *product* (a dynamic library), never on its sources:
        // the plugin must share the host's single copy of the core.
        .target(name: "QuadraticIF", dependencies: [.product(name: "PlasticityCore", package: "PlasticityCore")]),
    ],
    swiftLanguageModes: [.v5]
)
