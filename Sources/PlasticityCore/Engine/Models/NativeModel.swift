import CPluginABI
import Foundation
import PlasticityBase

/// One output of a C kernel, as a primitive of the expression language: the state update's
/// i-th component, the spike argument, or one declared partial derivative. Its partials are
/// the plugin's declared rules, so the symbolic pipeline derives the blocks (and their
/// zero / constant / varying annotations) exactly as for a Swift model.
struct NativeOutputPrimitive: VectorizedPrimitive, @unchecked Sendable {
    let kernel: NativeKernel
    let output: Int
    let parameters: [Double]
    /// ∂(this output)/∂(argument j), one per argument; nil for a partial kernel's own output
    /// (the ABI declares first derivatives only).
    let derivatives: [NativeRule]?
    let label: String

    var name: String { label }
    var kernelDescription: String { kernel.label }
    var key: String { "native[\(UInt(bitPattern: kernel.function)):\(output):\(parameters)]" }
    var arity: Int { kernel.inputCount }

    var callGroup: (id: String, output: Int, outputs: Int)? {
        kernel.outputCount > 1 ? ("native[\(UInt(bitPattern: kernel.function)):\(parameters)]", output, kernel.outputCount) : nil
    }

    func evaluateGroup(count: Int, arguments: [UnsafePointer<Double>], into outputs: [UnsafeMutablePointer<Double>]) {
        kernel.call(count: count, inputs: arguments, parameters: parameters, outputs: outputs)
    }

    func value(_ arguments: [Double]) -> Double {
        var result = 0.0
        evaluate(count: 1, arguments: arguments.map { value in
            let pointer = UnsafeMutablePointer<Double>.allocate(capacity: 1)
            pointer.initialize(to: value)
            return UnsafePointer(pointer)
        }, into: &result, releasingArguments: true)
        return result
    }

    func evaluate(count: Int, arguments: [UnsafePointer<Double>], into output: UnsafeMutablePointer<Double>) {
        evaluate(count: count, arguments: arguments, into: output, releasingArguments: false)
    }

    private func evaluate(count: Int, arguments: [UnsafePointer<Double>], into result: UnsafeMutablePointer<Double>, releasingArguments: Bool) {
        defer { if releasingArguments { arguments.forEach { $0.deallocate() } } }
        if kernel.outputCount == 1 {
            kernel.call(count: count, inputs: arguments, parameters: parameters, outputs: [result])
            return
        }
        // F computes every state component at once; keep the one this primitive stands for.
        let scratch = (0..<kernel.outputCount).map { $0 == output ? result : UnsafeMutablePointer<Double>.allocate(capacity: count) }
        kernel.call(count: count, inputs: arguments, parameters: parameters, outputs: scratch)
        for (index, pointer) in scratch.enumerated() where index != output { pointer.deallocate() }
    }

    func partials(_ arguments: [Sym], result: Sym) -> [Sym] {
        guard let derivatives else {
            preconditionFailure("\(label): C plugins declare first derivatives only")
        }
        return derivatives.map { rule in
            switch rule.kind {
            case .zero, .stopped: return 0
            case .constant(let value): return Sym(value)
            case .varying(let kernel, let name):
                return ExpressionGraph.apply(NativeOutputPrimitive(kernel: kernel, output: 0, parameters: parameters, derivatives: nil, label: name), arguments)
            case .parameterConstant(let kernel, let name):
                // The parameters are the last arguments. Single values: one call now, and the
                // entry is a constant; per-neuron or trained ones: a function of them.
                let primitive = NativeOutputPrimitive(kernel: kernel, output: 0, parameters: [], derivatives: nil, label: name)
                let theta = Array(arguments.suffix(kernel.inputCount))
                let values = theta.compactMap(\.constantValue)
                return values.count == theta.count ? Sym(primitive.value(values)) : ExpressionGraph.apply(primitive, theta)
            }
        }
    }
}

/// A declared partial derivative of a C model.
struct NativeRule {
    enum Kind {
        case zero, stopped
        case constant(Double)
        case varying(NativeKernel, String)
        /// A function of the parameters only (ABI 3).
        case parameterConstant(NativeKernel, String)
    }
    let kind: Kind
}

/// Reads a C plugin's descriptors into model descriptions, refusing malformed ones.
enum NativeModelReader {
    static func models(from plugin: UnsafeRawPointer, path: String, version: Int32) throws -> [ModelDescription] {
        try NativeDeclaration.read(plugin, path: path, version: version).map { try model($0, version: version) }
    }

    /// - Parameter version: 1: parameters by value; 2 and 3: per-neuron arrays, with partials.
    static func model(_ descriptor: NativeDeclaration, version: Int32) throws -> ModelDescription {
        let name = descriptor.name
        func fail(_ reason: String) -> PlasticityError { .invalidModel(model: name, reason: reason) }
        let states = descriptor.states, parameters = descriptor.parameters
        let k = states.count, p = parameters.count
        guard k > 0 else { throw fail("it declares no state variables") }
        guard let update = descriptor.update else { throw fail("the descriptor has no update kernel (F)") }
        guard let spikeArgument = descriptor.spikeArgument else { throw fail("the descriptor has no spike-argument kernel (f)") }
        let surrogate = try descriptor.surrogate.map { try SurrogateParser.parse($0) } ?? TriangleSurrogate()
        let perNeuron = version >= 2
        func kernel(_ function: UnsafeMutableRawPointer, _ signature: NativeKernel.Signature, _ what: String) throws -> NativeKernel {
            try NativeKernel(function: function, signature: signature, label: "kernel \(what) of model \(name)", stateCount: k, parameterCount: p, parametersPerNeuron: perNeuron)
        }
        let updateKernel = try kernel(update, .update(outputs: k), "F (update)")
        let spikeKernel = try kernel(spikeArgument, .spikeArgument, "f (spike argument)")

        // Rules by (partial, row, column); unlisted entries are zero. From ABI 2 on the
        // kernels' arguments include the parameters, and so do the rules.
        let parameterArguments = perNeuron ? p : 0
        var updateRules = [[NativeRule]](repeating: [NativeRule](repeating: NativeRule(kind: .zero), count: k + 2 + parameterArguments), count: k)
        var spikeRules = [NativeRule](repeating: NativeRule(kind: .zero), count: k + parameterArguments)
        var unchecked: [CheckedEntry: String] = [:]
        var namedParameters = Set<Int>()
        // The rule that first named each entry: a second one for the same entry is refused
        // (the last one used to win, silently).
        var declared: [String: Int] = [:]
        let stateLabel = states.map(\.name), parameterLabel = parameters.map(\.name)
        for (index, rule) in descriptor.rules.enumerated() {
            let row = Int(rule.row), column = Int(rule.column)
            let (entryName, isUpdate, argument): (String, Bool, Int)
            if !perNeuron, [PLASTICITY_D_UPDATE_D_PARAMETER, PLASTICITY_D_SPIKE_ARGUMENT_D_PARAMETER].contains(rule.partial) {
                throw fail("rule \(index) gives a partial derivative with respect to a parameter, which needs plugin ABI 2 or 3 (#define PLASTICITY_PLUGIN_ABI 3)")
            }
            switch rule.partial {
            case PLASTICITY_D_UPDATE_D_PARAMETER:
                guard row < k, column < p else { throw fail("rule \(index) names state \(row) of \(k) and parameter \(column) of \(p)") }
                (entryName, isUpdate, argument) = ("∂\(stateLabel[row])[t]/∂\(parameterLabel[column])", true, k + 2 + column)
                namedParameters.insert(column)
            case PLASTICITY_D_SPIKE_ARGUMENT_D_PARAMETER:
                guard column < p else { throw fail("rule \(index) names parameter \(column) of \(p)") }
                (entryName, isUpdate, argument) = ("∂f/∂\(parameterLabel[column])", false, k + column)
                namedParameters.insert(column)
            case PLASTICITY_D_UPDATE_D_STATE:
                guard row < k, column < k else { throw fail("rule \(index) names state \(row), \(column) of \(k)") }
                (entryName, isUpdate, argument) = ("∂\(stateLabel[row])[t]/∂\(stateLabel[column])[t-1]", true, column)
            case PLASTICITY_D_UPDATE_D_PREVIOUS_SPIKE:
                guard row < k else { throw fail("rule \(index) names state \(row) of \(k)") }
                (entryName, isUpdate, argument) = ("∂\(stateLabel[row])[t]/∂z[t-1]", true, k)
            case PLASTICITY_D_UPDATE_D_CURRENT:
                guard row < k else { throw fail("rule \(index) names state \(row) of \(k)") }
                (entryName, isUpdate, argument) = ("∂\(stateLabel[row])[t]/∂I[t]", true, k + 1)
            case PLASTICITY_D_SPIKE_ARGUMENT_D_STATE:
                guard column < k else { throw fail("rule \(index) names state \(column) of \(k)") }
                (entryName, isUpdate, argument) = ("∂f/∂\(stateLabel[column])[t]", false, column)
            default:
                throw fail("rule \(index) has an unknown partial \(rule.partial.rawValue)")
            }
            if let first = declared.updateValue(index, forKey: entryName) {
                throw fail("rules \(first) and \(index) both declare entry \(entryName); give each entry one rule")
            }
            let kind: NativeRule.Kind
            switch rule.kind {
            case PLASTICITY_ENTRY_ZERO: kind = .zero
            case PLASTICITY_ENTRY_STOPPED:
                kind = .stopped
                unchecked[isUpdate ? .update(row: row, argument: argument) : .spikeArgument(column: argument)] = "stopped gradient"
            case PLASTICITY_ENTRY_CONSTANT:
                guard rule.constant.isFinite else { throw fail("entry \(entryName) is declared constant \(rule.constant)") }
                kind = .constant(rule.constant)
            case PLASTICITY_ENTRY_VARYING:
                guard let function = rule.kernel else { throw fail("entry \(entryName) is declared varying but has no kernel") }
                kind = .varying(try kernel(function, isUpdate ? .update(outputs: 1) : .spikeArgument, "of entry \(entryName)"), "\(name).\(entryName)")
            case PLASTICITY_ENTRY_PARAMETER_CONSTANT:
                guard version >= 3 else { throw fail("entry \(entryName) is declared PARAMETER_CONSTANT, which needs plugin ABI 3 (#define PLASTICITY_PLUGIN_ABI 3)") }
                guard p > 0 else { throw fail("entry \(entryName) is declared a function of the parameters, but the model has none") }
                guard let function = rule.kernel else { throw fail("entry \(entryName) is declared PARAMETER_CONSTANT but has no kernel") }
                kind = .parameterConstant(try kernel(function, .parameters, "of entry \(entryName) (a function of the parameters)"), "\(name).\(entryName)")
            default:
                throw fail("entry \(entryName) has an unknown kind \(rule.kind.rawValue)")
            }
            if isUpdate { updateRules[row][argument] = NativeRule(kind: kind) } else { spikeRules[argument] = NativeRule(kind: kind) }
        }
        let summary = descriptor.summary ?? "C model"
        var untrainable: [String: String] = [:]
        for (index, parameter) in parameterLabel.enumerated() where !namedParameters.contains(index) {
            untrainable[parameter] = perNeuron
                ? "model \(name) gives no partial derivative with respect to '\(parameter)' (PLASTICITY_D_UPDATE_D_PARAMETER rules), so it can be set per neuron but not trained"
                : "model \(name) is a plugin of ABI 1, which passes '\(parameter)' to its kernels as one number per population; rebuild it for ABI 2 to set it per neuron or train it"
        }
        // From ABI 2 on every parameter is verified as a per-neuron input (a kernel reading
        // tau[0] for every neuron is caught); the partials of one no rule names are not used.
        for q in 0..<parameterArguments where !namedParameters.contains(q) {
            for row in 0..<k { unchecked[.update(row: row, argument: k + 2 + q)] = "no rule given: '\(parameterLabel[q])' is not trainable" }
            unchecked[.spikeArgument(column: k + q)] = "no rule given: '\(parameterLabel[q])' is not trainable"
        }
        return ModelDescription(name: name, summary: summary, stateVariables: states, parameters: parameters, defaultSurrogate: surrogate,
                                uncheckedEntries: unchecked, untrainableParameters: untrainable,
                                verifiedParameterInputs: perNeuron ? parameterLabel : []) { values in
            // ABI 2: parameters are arguments (a constant, or the step's input when set per
            // neuron or trained); ABI 1: numbers handed to every call.
            let byValue = perNeuron ? [] : parameters.map { spec -> Double in
                if values.isInput(spec.name) { values.refuse(untrainable[spec.name]!) }
                return values[spec.name]
            }
            let parameterSymbols = perNeuron ? parameters.map { values.symbol($0.name) } : []
            let update = { (inputs: NeuronStepInputs) -> [Sym] in
                (0..<k).map { i in
                    ExpressionGraph.apply(NativeOutputPrimitive(kernel: updateKernel, output: i, parameters: byValue, derivatives: updateRules[i],
                                                                label: "\(name).F[\(stateLabel[i])]"),
                                          inputs.state + [inputs.previousSpike, inputs.current] + parameterSymbols)
                }
            }
            let spike = { (state: [Sym]) -> Sym in
                ExpressionGraph.apply(NativeOutputPrimitive(kernel: spikeKernel, output: 0, parameters: byValue, derivatives: spikeRules,
                                                            label: "\(name).f"), state + parameterSymbols)
            }
            return (update, spike)
        }
    }
}
