import ArgumentParser
import Foundation
import PlasticityCore

struct BuildPlugin: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build-plugin",
        abstract: "Build a single-file Swift plugin against this build of the core, in seconds.",
        discussion: """
            Compiles FILE.swift (a model type and the two @_cdecl entry points; Documentation/WritingAPlugin.md) with swiftc into \
            lib<FILE>.so, importing the PlasticityCore module this tool was built with and linking its libPlasticityCore.so, so the \
            core is not compiled again. It needs the tool where `swift build` put it (next to its Modules directory) and swiftc \
            (on PATH, or --swiftc). A plugin built so loads with this build of the tool; rebuild it after rebuilding the tool.
            """)

    @Argument(help: "The plugin's Swift source; its name (without .swift) is the module's and the library's.")
    var file: String

    @Option(help: "Where to put lib<NAME>.so (default: the source's directory).")
    var output: String?

    @Option(help: "The Swift compiler (default: swiftc on PATH).")
    var swiftc: String?

    func run() throws {
        let source = URL(fileURLWithPath: file).standardizedFileURL
        guard source.pathExtension == "swift" else { throw ValidationError("\(file) is not a .swift file") }
        guard (try? source.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { throw ValidationError("\(file) does not exist or is not a file") }
        let name = source.deletingPathExtension().lastPathComponent
        guard Self.isIdentifier(name) else {
            throw ValidationError("'\(name)' cannot name a Swift module; name the file with letters, digits and underscores, not starting with a digit")
        }
        let directory = URL(fileURLWithPath: output ?? source.deletingLastPathComponent().path)
        let library = directory.appendingPathComponent("lib\(name).so")
        try OutputFile.checkWritable(library.path, option: "--output")
        let core = try CoreBuild.locate()
        let compiler = try swiftc ?? Self.findOnPath("swiftc")
        let arguments = ["-emit-library", "-parse-as-library", "-swift-version", "5", "-module-name", name, "-I", core.modules]
            + core.moduleMaps.flatMap { ["-Xcc", "-fmodule-map-file=\($0)"] }
            + ["-L", core.libraryDirectory, "-lPlasticityCore", "-Xlinker", "-rpath", "-Xlinker", core.libraryDirectory,
               "-o", library.path, source.path]
        let started = Date()
        let compile = Process()
        compile.executableURL = URL(fileURLWithPath: compiler)
        compile.arguments = arguments
        try compile.run()
        compile.waitUntilExit()
        guard compile.terminationStatus == 0 else {
            throw PlasticityError.invalidConfiguration("\(compiler) could not build \(file) (exit status \(compile.terminationStatus)); its messages are above")
        }
        print("built \(library.path) in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        print("load it with --plugin \(library.path), or put \(directory.path) in \(PluginLoader.searchPathVariable)")
    }

    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !CharacterSet.decimalDigits.contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" } && name.unicodeScalars.allSatisfy(\.isASCII)
    }

    static func findOnPath(_ program: String) throws -> String {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        guard let found = directories.map({ URL(fileURLWithPath: $0).appendingPathComponent(program).path })
            .first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ValidationError("\(program) is not on PATH; install the Swift toolchain or name the compiler with --swiftc")
        }
        return found
    }
}

/// Where this tool's build keeps what a plugin compiles against: the Swift modules
/// (`Modules/`), libPlasticityCore.so, and the module maps of the C modules the core's
/// modules import (its own and its dependencies'), one per module name.
struct CoreBuild {
    let modules: String
    let libraryDirectory: String
    let moduleMaps: [String]

    static func locate() throws -> CoreBuild {
        let build = URL(fileURLWithPath: PluginLoader.executableDirectory())
        let modules = build.appendingPathComponent("Modules")
        guard FileManager.default.fileExists(atPath: modules.appendingPathComponent("PlasticityCore.swiftmodule").path),
              FileManager.default.fileExists(atPath: build.appendingPathComponent("libPlasticityCore.so").path) else {
            throw ValidationError("build-plugin needs the tool as `swift build` left it: \(build.path) has no Modules/PlasticityCore.swiftmodule or libPlasticityCore.so")
        }
        // The package root holds .build/<triple>/<configuration>/ (this directory).
        var root = build
        while root.lastPathComponent != ".build", root.path != "/" { root.deleteLastPathComponent() }
        root.deleteLastPathComponent()
        let files = FileManager.default
        func contents(_ directory: URL) -> [URL] {
            ((try? files.contentsOfDirectory(atPath: directory.path)) ?? []).sorted().map { directory.appendingPathComponent($0) }
        }
        // C targets' maps: generated in the build directory (not the host tools' copies), or
        // the packages' own in their sources.
        var candidates = contents(build).filter { $0.lastPathComponent.hasSuffix(".build") && !$0.lastPathComponent.hasSuffix("-tool.build") }
            .map { $0.appendingPathComponent("module.modulemap") }
        for package in contents(root.appendingPathComponent(".build/checkouts")) + [root.appendingPathComponent("Sources/PlasticityCore")] {
            for target in contents(package.appendingPathComponent("Sources")) + contents(package) {
                candidates += [target.appendingPathComponent("module.modulemap"), target.appendingPathComponent("include/module.modulemap")]
            }
        }
        var byModule: [String: String] = [:]
        for candidate in candidates {
            guard let text = try? String(contentsOf: candidate, encoding: .utf8), let name = Self.moduleName(text), byModule[name] == nil else { continue }
            byModule[name] = candidate.path
        }
        return CoreBuild(modules: modules.path, libraryDirectory: build.path, moduleMaps: byModule.keys.sorted().map { byModule[$0]! })
    }

    /// The name after the first `module` keyword of a module map.
    static func moduleName(_ text: String) -> String? {
        let words = text.split(whereSeparator: { $0.isWhitespace || $0 == "{" })
        guard let index = words.firstIndex(of: "module"), index + 1 < words.count else { return nil }
        return String(words[index + 1])
    }
}
