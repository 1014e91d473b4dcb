import Foundation
import PlasticityCore
import Testing

/// A small, fast, seedable generator so every random test input is reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The plugins built with the package, loaded once through the real loader.
enum TestPlugins {
    /// The Swift plugins and the C plugin, all loaded through the same loader.
    static let names = ["LIF", "ALIF", "AdLIF", "Izhikevich"]

    /// The plugins written in Swift (their values cross the dlopen boundary as core types).
    static let swiftNames = ["LIF", "ALIF", "AdLIF"]

    /// Where to sample each state variable so that spikes and surrogate gradients occur (an
    /// Izhikevich neuron at v ≈ −15 mV reaches the threshold region within one step).
    static func stateRanges(_ model: String, count: Int) -> [ClosedRange<Double>] {
        model == "Izhikevich" ? [-20...(-10), -15...(-5)] : [ClosedRange<Double>](repeating: -0.5...1.5, count: count)
    }

    /// Parameter settings worth testing: both reset conventions where a model has them.
    static func resetVariants(_ model: String) -> [[String: Double]] {
        model == "Izhikevich" ? [[:]] : [[:], ["resetGradient": 1.0]]
    }

    /// The repository's root.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The shipped model files (Models/*.neuron), by the Swift model each restates.
    static let modelFiles = ["LIF": "Models/LIF.neuron", "ALIF": "Models/ALIF.neuron", "AdLIF": "Models/AdLIF.neuron"]
    /// The text models' names, and the Swift model each restates.
    static let swiftCounterpart = ["TextLIF": "LIF", "TextALIF": "ALIF", "TextAdLIF": "AdLIF"]

    /// The built plugins and the shipped model files, all loaded through the same loader.
    static let registry: ModelRegistry = {
        let registry = ModelRegistry()
        for name in names + modelFiles.values.sorted().map({ repository.appendingPathComponent($0).path }) {
            do { try PluginLoader().load(name, into: registry) } catch { fatalError("cannot load built plugin \(name): \(error)") }
        }
        return registry
    }()

    static func compile(_ name: String, _ parameters: [String: Double] = [:], surrogate: (any Surrogate)? = nil) throws -> CompiledNeuron {
        try registry.model(named: name).compile(ModelConfiguration(parameters: parameters, surrogate: surrogate))
    }
}

/// |a − b| / max(1, |a|, |b|): absolute for small values, relative for large ones.
func scaledError(_ a: Double, _ b: Double) -> Double {
    Swift.abs(a - b) / Swift.max(1, Swift.abs(a), Swift.abs(b))
}

/// The error `body` throws, as the user would read it ("no error" if it throws none).
func errorMessage(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "no error"
    } catch {
        return "\(error)"
    }
}

/// Runs a program found on PATH (or at an absolute path), with `environment` added to this
/// process's, and returns its status and output.
func runProgram(_ program: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
    let process = Process()
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if program.hasPrefix("/") {
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
    } else {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
    }
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    // Read both pipes while the program runs, so neither fills up and blocks it.
    let errorData = ReadData(), errorReader = DispatchGroup(), errorHandle = error.fileHandleForReading
    DispatchQueue.global().async(group: errorReader) { errorData.store(errorHandle.readDataToEndOfFile()) }
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    errorReader.wait()
    return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData.value, as: UTF8.self))
}

/// Bytes one thread reads for another, handed over under a lock.
private final class ReadData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func store(_ read: Data) { lock.withLock { data = read } }
    var value: Data { lock.withLock { data } }
}

/// Builds a shared library from C source with the toolchain's clang, for plugins that must
/// be broken in specific ways.
func buildCLibrary(named name: String, source: String) throws -> String {
    let directory = try temporaryDirectory()
    let sourceFile = directory.appendingPathComponent("\(name).c")
    try source.write(to: sourceFile, atomically: true, encoding: .utf8)
    let output = directory.appendingPathComponent("lib\(name).so").path
    let result = try runProgram("clang", ["-shared", "-fPIC", "-o", output, sourceFile.path])
    guard result.status == 0 else { throw PlasticityError.invalidConfiguration("clang failed: \(result.error)") }
    return output
}

/// A fresh temporary directory.
func temporaryDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("plasticity-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

/// An owned array of scalars with a stable address, for calling kernels in tests.
final class Buffer<T: BinaryFloatingPoint> {
    let pointer: UnsafeMutablePointer<T>
    let count: Int
    init(_ values: [T]) {
        count = values.count
        pointer = .allocate(capacity: values.count)
        pointer.initialize(from: values, count: values.count)
    }
    convenience init(count: Int) { self.init([T](repeating: .nan, count: count)) }
    deinit { pointer.deallocate() }
    subscript(_ index: Int) -> T { pointer[index] }
    var readOnly: UnsafePointer<T> { UnsafePointer(pointer) }
}

/// Whether an optional system dependency a test needs is `present`. Missing, the test is
/// skipped — unless `variable` is set to 1 (CI installs the dependency and sets it), when its
/// absence is the test's failure, recorded where the test asked.
func optionalDependency(present: Bool, requiredBy variable: String, _ missing: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
    if !present {
        #expect(ProcessInfo.processInfo.environment[variable] != "1", "\(variable)=1 but \(missing)", sourceLocation: sourceLocation)
    }
    return present
}
