import ArgumentParser
import Foundation
import PlasticityCore

struct NewModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new-model",
        abstract: "Write a model file (NAME.neuron) to edit: a commented template, or a copy of another model file under a new name.",
        discussion: "The file needs no compiler: load it with --plugin NAME.neuron. Documentation/ModelFiles.md describes the language.")

    @Argument(help: "The new model's name (letters, digits and '_').")
    var name: String

    @Option(help: "Start from this model file (a path), or from a loaded model that came from one (e.g. one in PLASTICITY_PLUGIN_PATH).")
    var from: String?

    @Option(help: "The directory to write NAME.neuron into.")
    var output: String = "."

    @Flag(help: "Replace an existing file.")
    var force = false

    @OptionGroup var pluginOptions: PluginOptions

    func validate() throws {
        guard ModelFile.isValidName(name) else {
            throw ValidationError("'\(name)' cannot name a model: use letters, digits and '_', starting with a letter or '_'")
        }
    }

    func run() throws {
        let text = try from.map(sourceText).map { try ModelFile.renaming($0.text, to: name, path: $0.path) } ?? ModelFile.template(named: name)
        // The file written must load: check it before writing anything.
        _ = try ModelFile.parse(text, path: "\(name).\(ModelFile.fileExtension)").verify()
        let destination = URL(fileURLWithPath: output).appendingPathComponent("\(name).\(ModelFile.fileExtension)")
        if FileManager.default.fileExists(atPath: destination.path), !force {
            throw ValidationError("\(destination.path) exists; pass --force to replace it")
        }
        do {
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: destination, atomically: true, encoding: .utf8)
        } catch {
            throw ValidationError("cannot write \(destination.path): \(error.localizedDescription)")
        }
        print("wrote \(destination.path)")
        print("next: plasticity verify \(destination.path)  ·  plasticity inspect \(name) --plugin \(destination.path)")
    }

    /// The model file `from` names, and its path.
    private func sourceText(_ source: String) throws -> (text: String, path: String) {
        var path = source
        if !ModelFile.isModelFile(source) {
            let model = try pluginOptions.loadRegistry().model(named: source)
            guard ModelFile.isModelFile(model.source) else {
                throw ValidationError("\(model.name) is a compiled plugin (\(model.source)), not a model file; start from the template (no --from) "
                                      + "or from a .neuron file such as Models/\(model.name).neuron in the repository")
            }
            path = model.source
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("cannot read the model file \(path)")
        }
        return (text, path)
    }
}
