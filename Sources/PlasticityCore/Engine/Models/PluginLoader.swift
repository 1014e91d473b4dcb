import Foundation
import CPluginABI
import PlasticityBase

/// Finds plugin libraries and loads them into a `ModelRegistry`.
///
/// Libraries are opened by absolute path with RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE: NOW so
/// an unresolved symbol fails at load rather than mid-training, LOCAL so each plugin's
/// exported entry points stay its own, NODELETE because unloading Swift code that the
/// runtime still references (type metadata, conformances) crashes later casts.
public struct PluginLoader {
    /// Directories searched, in order, for a plugin given by name.
    public var searchPath: [String]
    /// Checks each library before it is opened in this process (a child process, so that a
    /// crashing or hanging plugin cannot take the host down); nil: verified in process.
    public var screen: (any PluginScreen)?

    /// The environment variable holding extra plugin directories, separated by ':'.
    public static let searchPathVariable = "PLASTICITY_PLUGIN_PATH"

    /// The default search path: PLASTICITY_PLUGIN_PATH, then the executable's directory
    /// (where `swift build` puts the plugin products next to the tool).
    public init(searchPath: [String]? = nil, screen: (any PluginScreen)? = nil) {
        self.searchPath = searchPath ?? Self.defaultSearchPath()
        self.screen = screen
    }

    public static func defaultSearchPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let fromEnvironment = (environment[searchPathVariable] ?? "").split(separator: ":").map(String.init)
        return fromEnvironment + [executableDirectory()]
    }

    /// The directory of the running executable.
    public static func executableDirectory() -> String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }

    /// The absolute path of a plugin given as a path (anything with a '/' or ending in .so or
    /// .neuron) or as a name such as `LIF`, looked up as `libLIF.so`, `LIF.so` or
    /// `LIF.neuron` along the search path.
    public func resolve(_ plugin: String) throws -> String {
        if plugin.contains("/") || plugin.hasSuffix(".so") || ModelFile.isModelFile(plugin) {
            let absolute = URL(fileURLWithPath: plugin).standardizedFileURL.path
            guard FileManager.default.fileExists(atPath: absolute) else { throw PlasticityError.pluginFileMissing(path: absolute) }
            return URL(fileURLWithPath: absolute).resolvingSymlinksInPath().path
        }
        for directory in searchPath {
            for file in ["lib\(plugin).so", "\(plugin).so", "\(plugin).\(ModelFile.fileExtension)"] {
                let candidate = URL(fileURLWithPath: directory).appendingPathComponent(file).path
                if FileManager.default.fileExists(atPath: candidate) {
                    return URL(fileURLWithPath: candidate).resolvingSymlinksInPath().path
                }
            }
        }
        throw PlasticityError.pluginNotFound(name: plugin, searched: searchPath)
    }

    /// Opens `plugin`, checks its ABI version, verifies every model's Jacobian rules against
    /// finite differences and registers its models (none if any fails). With a `screen`, a
    /// library is first opened and verified by it (its verdict stands for the verification).
    /// - Returns: the absolute path that was loaded.
    @discardableResult
    public func load(_ plugin: String, into registry: ModelRegistry) throws -> String {
        let path = try resolve(plugin)
        if registry.hasLoaded(path) { throw PlasticityError.pluginAlreadyLoaded(path: path) }
        let screened = try screen(path)
        let (_, models) = try open(path, refusing: registry)
        if !screened {
            for model in models {
                let report = try model.verify()
                if let failure = report.failure { throw PlasticityError.verificationFailed(path: path, detail: failure) }
            }
        }
        try registry.register(models, from: path)
        return path
    }

    /// Runs the screen on a library (not on a model file, which is text read by the core).
    /// - Returns: whether it was screened, and so verified.
    private func screen(_ path: String) throws -> Bool {
        guard let screen, !ModelFile.isModelFile(path) else { return false }
        try screen.check(path)
        return true
    }

    /// Has `observer` told the name of each C kernel (`kernel F (update) of model X`) before
    /// it is called: a process checking plugins for a parent reports where it crashed or hung.
    public static func reportKernelCalls(to observer: @escaping (String) -> Void) {
        NativeKernel.willCall = observer
    }

    /// Opens `plugin` (a library, or a model file read as text) and reads its models without
    /// verifying or registering them.
    public func open(_ plugin: String, refusing registry: ModelRegistry? = nil) throws -> (path: String, models: [ModelDescription]) {
        let path = try resolve(plugin)
        if registry?.hasLoaded(path) == true { throw PlasticityError.pluginAlreadyLoaded(path: path) }
        if ModelFile.isModelFile(path) { return (path, [try ModelFile.load(path: path)]) }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let reason = dlerror().map { String(cString: $0) } ?? "dlopen failed"
            throw PlasticityError.notALibrary(path: path, reason: reason)
        }
        typealias VersionFunction = @convention(c) () -> Int32
        typealias EntryFunction = @convention(c) () -> UnsafeMutableRawPointer?
        guard let versionSymbol = dlsym(handle, PluginABI.versionSymbol) else {
            throw PlasticityError.missingSymbol(path: path, symbol: "'\(PluginABI.versionSymbol)'")
        }
        let version = unsafeBitCast(versionSymbol, to: VersionFunction.self)()
        if let cEntry = dlsym(handle, PluginABI.cEntrySymbol) {
            guard PluginABI.cVersions.contains(version) else {
                throw PlasticityError.abiVersionMismatch(path: path, found: version, expected: "\(PluginABI.cVersions.lowerBound) to \(PluginABI.cVersions.upperBound)")
            }
            typealias CEntryFunction = @convention(c) () -> UnsafeRawPointer?
            guard let plugin = unsafeBitCast(cEntry, to: CEntryFunction.self)() else {
                throw PlasticityError.invalidModel(model: path, reason: "the C plugin's entry function returned no descriptor")
            }
            return (path, try NativeModelReader.models(from: plugin, path: path, version: version))
        }
        guard version == PluginABI.version else {
            throw PlasticityError.abiVersionMismatch(path: path, found: version, expected: "\(PluginABI.version)")
        }
        guard let entrySymbol = dlsym(handle, PluginABI.swiftEntrySymbol) else {
            throw PlasticityError.missingSymbol(path: path, symbol: "'\(PluginABI.swiftEntrySymbol)' (Swift) or '\(PluginABI.cEntrySymbol)' (C)")
        }
        guard let pointer = unsafeBitCast(entrySymbol, to: EntryFunction.self)() else {
            throw PlasticityError.invalidModel(model: path, reason: "the plugin's entry function returned no manifest")
        }
        guard let manifest = Unmanaged<AnyObject>.fromOpaque(pointer).takeRetainedValue() as? PluginManifest else {
            throw PlasticityError.foreignCore(path: path)
        }
        return (path, manifest.models.map(ModelDescription.init))
    }
}

/// A check of a plugin library before it is opened in the host process.
public protocol PluginScreen {
    /// Opens the library at `path` (an absolute path) and verifies its models somewhere the
    /// host survives, throwing the reason if it crashed, hung, exited or failed verification.
    func check(_ path: String) throws
}

extension PluginLoader {
    /// Entries of PLASTICITY_PLUGIN_PATH that are not directories (a file, a typo), each said
    /// as a sentence: nothing is loaded from them, and a silent skip would hide why.
    public static func searchPathProblems(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        (environment[searchPathVariable] ?? "").split(separator: ":").map(String.init).compactMap { directory in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
                return "\(searchPathVariable) names \(directory), which does not exist; nothing is loaded from it"
            }
            return isDirectory.boolValue ? nil : "\(searchPathVariable) names \(directory), which is a file, not a directory of plugins; nothing is loaded from it (use --plugin for one file)"
        }
    }

    /// Every `lib*.so` and `*.neuron` model file in the PLASTICITY_PLUGIN_PATH directories,
    /// for loading out-of-tree plugins without naming each one.
    public static func discoverPlugins(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        let directories = (environment[searchPathVariable] ?? "").split(separator: ":").map(String.init)
        return directories.flatMap { directory -> [String] in
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            return files.filter { ($0.hasPrefix("lib") && $0.hasSuffix(".so") && $0 != "libPlasticityCore.so") || ModelFile.isModelFile($0) }.sorted()
                .map { URL(fileURLWithPath: directory).appendingPathComponent($0).resolvingSymlinksInPath().path }
        }
    }
}
