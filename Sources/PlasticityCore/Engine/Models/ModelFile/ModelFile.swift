import Foundation
import PlasticityBase

/// Neuron models written as text (`.neuron` files): parsed into the same symbolic
/// expressions a Swift model builds, so they are differentiated, annotated, verified and
/// compiled into the same step kernel — with no compiler. Documentation/ModelFiles.md
/// describes the language.
public enum ModelFile {
    /// The file extension the loader recognises.
    public static let fileExtension = "neuron"
    /// Model files larger than this are refused unread.
    public static let maximumBytes = 1 << 20

    /// Whether `path` names a model file (by its extension).
    public static func isModelFile(_ path: String) -> Bool { path.hasSuffix(".\(fileExtension)") }

    /// Reads and checks the model file at `path`.
    public static func load(path: String) throws -> ModelDescription {
        let size: Int
        switch RegularFile.size(at: path) {
        case .success(let bytes): size = bytes
        case .failure(.missing): throw PlasticityError.pluginFileMissing(path: path)
        case .failure(let problem): throw PlasticityError.invalidModelFile(path: path, line: 1, column: 1, reason: problem.reason)
        }
        guard size <= maximumBytes else {
            throw PlasticityError.invalidModelFile(path: path, line: 1, column: 1, reason: "\(size) bytes; a model file may hold at most \(maximumBytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PlasticityError.invalidModelFile(path: path, line: 1, column: 1, reason: "cannot be read")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw PlasticityError.invalidModelFile(path: path, line: 1, column: 1, reason: "is not UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// Parses and checks a model file's text; `path` is used in messages.
    public static func parse(_ text: String, path: String) throws -> ModelDescription {
        let checked = try check(text, path: path)
        return description(of: checked.syntax, declarations: checked.declarations, surrogate: checked.surrogate, path: path)
    }

    /// The parsed file with what its names mean and its surrogate, or the first problem as a
    /// `PlasticityError` naming the file, line and column.
    static func check(_ text: String, path: String) throws
        -> (syntax: ModelFileSyntax, declarations: [String: ModelFileChecker.Declaration], surrogate: any Surrogate) {
        do {
            let syntax = try ModelFileParser.parse(text)
            let declarations = try ModelFileChecker(syntax: syntax).check()
            var surrogate: any Surrogate = TriangleSurrogate()
            if let written = syntax.surrogate {
                do { surrogate = try SurrogateParser.parse(written.text) } catch {
                    throw ModelFileProblem(location: written.location, message: "\(error)")
                }
            }
            return (syntax, declarations, surrogate)
        } catch let problem as ModelFileProblem {
            throw PlasticityError.invalidModelFile(path: path, line: problem.location.line, column: problem.location.column, reason: problem.message)
        }
    }

    private static func description(of syntax: ModelFileSyntax, declarations: [String: ModelFileChecker.Declaration],
                                    surrogate: any Surrogate, path: String) -> ModelDescription {
        let states = syntax.states
        let updates = Dictionary(syntax.updates.map { ($0.state, $0) }, uniquingKeysWith: { first, _ in first })
        let resets = Dictionary(syntax.resets.map { ($0.state, $0) }, uniquingKeysWith: { first, _ in first })
        let spikeArgument = syntax.spikeArgument!.expression
        return ModelDescription(
            name: syntax.name!.value, summary: syntax.summary.isEmpty ? "model file \(URL(fileURLWithPath: path).lastPathComponent)" : syntax.summary,
            stateVariables: states.map { StateVariable($0.name, initialValue: $0.initialValue, summary: $0.summary) },
            parameters: syntax.parameters.map { ParameterSpec($0.name, default: $0.defaultValue, summary: $0.summary, validRange: $0.validRange) },
            defaultSurrogate: surrogate
        ) { values in
            let update = { (inputs: NeuronStepInputs) -> [Sym] in
                let evaluator = ModelFileEvaluator(declarations: declarations, parameters: values,
                                                   states: Dictionary(uniqueKeysWithValues: zip(states.map(\.name), inputs.state)),
                                                   stepInputs: ["z": inputs.previousSpike, "I": inputs.current])
                return states.indices.map { index in
                    let name = states[index].name, previous = inputs.state[index]
                    let statement = updates[name]!
                    var newValue = integrate(statement, from: previous, evaluator: evaluator, values: values, path: path)
                    if let reset = resets[name] {
                        var afterStep = evaluator
                        afterStep.states[name] = newValue
                        newValue = newValue + stopGradient(inputs.previousSpike) * (afterStep.value(of: reset.expression) - newValue)
                    }
                    return newValue
                }
            }
            let spike = { (newState: [Sym]) -> Sym in
                ModelFileEvaluator(declarations: declarations, parameters: values,
                                   states: Dictionary(uniqueKeysWithValues: zip(states.map(\.name), newState)), stepInputs: [:])
                    .value(of: spikeArgument)
            }
            return (update, spike)
        }
    }

    /// A state's new value from its update statement.
    private static func integrate(_ statement: ModelFileSyntax.Update, from previous: Sym, evaluator: ModelFileEvaluator,
                                  values: ParameterValues, path: String) -> Sym {
        let rhs = evaluator.value(of: statement.expression)
        switch statement.kind {
        case .discrete:
            return rhs
        case .differential(.euler):
            return previous + values["dt"] * rhs
        case .differential(.exponential):
            // dh/dt = a + b·h with b fixed by the parameters: h[t] = e^{bΔt} h + a (e^{bΔt} − 1)/b.
            guard let graph = previous.graph, case .variable(let slot) = graph.nodes[previous.node].operation,
                  let slope = graph.derivatives(of: [rhs], withRespectTo: slot)[0].constantValue else {
                let location = statement.location
                values.refuse("\(path):\(location): d\(statement.state)/dt is not of the form a + b·\(statement.state) with b depending on parameters only, "
                              + "so the exponential integrator does not apply; use euler")
                return previous
            }
            var constantPart = evaluator
            constantPart.states[statement.state] = 0
            let a = constantPart.value(of: statement.expression), dt = values["dt"]
            guard slope != 0 else { return previous + dt * a }
            let growth = Foundation.exp(slope * dt)
            return growth * previous + ((growth - 1) / slope) * a
        }
    }
}
