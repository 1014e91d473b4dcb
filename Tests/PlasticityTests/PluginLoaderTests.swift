import Foundation
import PlasticityCore
import Testing

@Suite("Plugin loading")
struct PluginLoaderTests {
    @Test("the built plugins load through the loader and share the host's core types")
    func builtPluginsShareTypeIdentity() throws {
        let registry = ModelRegistry()
        let loader = PluginLoader()
        for name in TestPlugins.names {
            let path = try loader.load(name, into: registry)
            #expect(path.hasPrefix("/") && path.hasSuffix("lib\(name).so"))
        }
        #expect(registry.all.map(\.name) == ["ALIF", "AdLIF", "Izhikevich", "LIF"])
        for entry in registry.all where TestPlugins.swiftNames.contains(entry.name) {
            // A value of a core type created inside the plugin casts to the host's type only
            // if both use one PlasticityCore (the loader's manifest cast checks the same).
            #expect(entry.model.defaultSurrogate is TriangleSurrogate, "\(entry.name)")
            #expect(ObjectIdentifier(type(of: entry.model.defaultSurrogate)) == ObjectIdentifier(TriangleSurrogate.self))
            #expect(entry.source.hasSuffix("lib\(entry.name).so"))
        }
    }

    @Test("loading the same plugin twice is refused")
    func sameFileTwice() throws {
        let registry = ModelRegistry()
        try PluginLoader().load("LIF", into: registry)
        let text = errorMessage { try PluginLoader().load("LIF", into: registry) }
        #expect(text.contains("libLIF.so is already loaded") , "\(text)")
    }

    @Test("two models with one name are refused, naming both files")
    func duplicateModelName() throws {
        let registry = ModelRegistry()
        let original = try PluginLoader().load("LIF", into: registry)
        let copy = try temporaryDirectory().appendingPathComponent("libLIFCopy.so").path
        try FileManager.default.copyItem(atPath: original, toPath: copy)
        let text = errorMessage { try PluginLoader().load(copy, into: registry) }
        #expect(text.contains("model 'LIF' from \(copy) is already registered by \(original)") , "\(text)")
        #expect(registry.all.count == 1)
    }

    @Test("model names equal ignoring case are refused, naming both: --model would pick one at random")
    func caseInsensitiveNames() throws {
        let registry = ModelRegistry()
        let original = try PluginLoader().load("LIF", into: registry)
        let text = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Models/LIF.neuron"), encoding: .utf8)
        let file = try temporaryDirectory().appendingPathComponent("lower.neuron")
        try text.replacingOccurrences(of: "model TextLIF", with: "model lif").write(to: file, atomically: true, encoding: .utf8)
        let message = errorMessage { try PluginLoader().load(file.path, into: registry) }
        #expect(message.contains("model 'lif' from \(file.path) differs from 'LIF' (registered by \(original)) only in case"), "\(message)")
        #expect(registry.all.map(\.name) == ["LIF"])
    }

    @Test("a library without the entry points is not a plugin")
    func missingSymbols() throws {
        let none = try buildCLibrary(named: "Nothing", source: "int unrelated(void) { return 0; }\n")
        let text = errorMessage { try PluginLoader().load(none, into: ModelRegistry()) }
        #expect(text.contains("does not export 'plasticity_plugin_abi_version'") , "\(text)")

        let versionOnly = try buildCLibrary(named: "VersionOnly", source: "int plasticity_plugin_abi_version(void) { return 1; }\n")
        let entryText = errorMessage { try PluginLoader().load(versionOnly, into: ModelRegistry()) }
        #expect(entryText.contains("does not export 'plasticity_plugin_entry'") , "\(entryText)")
    }

    @Test("a plugin built for another ABI version is refused with both versions")
    func versionMismatch() throws {
        let library = try buildCLibrary(named: "Future", source: """
            int plasticity_plugin_abi_version(void) { return 99; }
            void *plasticity_plugin_entry(void) { return 0; }
            """)
        let text = errorMessage { try PluginLoader().load(library, into: ModelRegistry()) }
        #expect(text.contains("built for plugin ABI version 99, but this Plasticity speaks version \(PluginABI.version)") , "\(text)")
    }

    @Test("an entry function that returns nothing is refused")
    func emptyManifest() throws {
        let library = try buildCLibrary(named: "Empty", source: """
            int plasticity_plugin_abi_version(void) { return 1; }
            void *plasticity_plugin_entry(void) { return 0; }
            """)
        let text = errorMessage { try PluginLoader().load(library, into: ModelRegistry()) }
        #expect(text.contains("returned no manifest") , "\(text)")
    }

    @Test("a file that is not a library, and a missing file, are clear errors")
    func notALibrary() throws {
        let junk = try temporaryDirectory().appendingPathComponent("libJunk.so").path
        try "not an ELF file".write(toFile: junk, atomically: true, encoding: .utf8)
        let text = errorMessage { try PluginLoader().load(junk, into: ModelRegistry()) }
        #expect(text.contains("\(junk) is not a loadable plugin library") , "\(text)")
        let missing = errorMessage { try PluginLoader().load("/nonexistent/libX.so", into: ModelRegistry()) }
        #expect(missing == "plugin file /nonexistent/libX.so does not exist")
    }

    @Test("a plugin that cannot be found says where it looked and how to build it")
    func notFound() throws {
        let directory = try temporaryDirectory().path
        let text = errorMessage { try PluginLoader(searchPath: [directory]).load("NoSuchModel", into: ModelRegistry()) }
        #expect(text.contains("plugin 'NoSuchModel' not found; looked in: \(directory)") , "\(text)")
        #expect(text.contains("swift build") == true)
    }

    @Test("the search path reads PLASTICITY_PLUGIN_PATH before the executable's directory")
    func searchPathOrder() {
        let path = PluginLoader.defaultSearchPath(environment: ["PLASTICITY_PLUGIN_PATH": "/a:/b"])
        #expect(path == ["/a", "/b", PluginLoader.executableDirectory()])
    }

    @Test("after refused plugins the process keeps running and good plugins still load")
    func recoversAfterFailures() throws {
        let registry = ModelRegistry()
        let bad = try buildCLibrary(named: "Bad", source: "int plasticity_plugin_abi_version(void) { return 2; }\n")
        #expect(throws: PlasticityError.self) { try PluginLoader().load(bad, into: registry) }
        #expect(throws: PlasticityError.self) { try PluginLoader().load("Missing", into: registry) }
        try PluginLoader().load("ALIF", into: registry)
        #expect(try registry.model(named: "alif").compile().stateCount == 2)
    }
}
